using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using NenAi.Core.Tests.Infrastructure;
using NenAi.HelpGen;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>about_*.md becomes the plain text Get-Help shows for about topics, laid out as PowerShell's own.</summary>
    public class AboutTopicWriterTests
    {
        private const string Sample = @"# about_Sample

## SHORT DESCRIPTION
A short line about the `sample`.

## LONG DESCRIPTION
This paragraph is long enough that it has to be wrapped at eighty columns, and it mentions **bold** text, *emphasis*,
a [link](https://example.test/docs), NEN_API_KEY and about_Sample, which keep their underscores.

- a first item that is long enough to need a second line when it is wrapped at the width of eighty columns
- a second item

| Name | Meaning |
|------|---------|
| `-Force` | do it again |
| -Expand | unpack archives |

    Get-Thing | Set-Thing -Value 'kept exactly as written, even beyond eighty columns of width in all'

```powershell
Get-Other
```

### A subheading
Text.
";

        private static string[] Lines(string text) => text.Replace("\r\n", "\n").TrimEnd('\n').Split('\n');

        [Fact]
        public void TheLayoutIsTheClassicAboutTopicWithTheSynopsisOnLineFive()
        {
            string[] lines = Lines(AboutTopicWriter.Write(Sample));

            Assert.Equal(new[] { "TOPIC", "    about_Sample", "", "SHORT DESCRIPTION", "    A short line about the sample.", "", "LONG DESCRIPTION" }, lines.Take(7));
        }

        [Fact]
        public void ParagraphsAreIndentedWrappedAndFreeOfMarkdown()
        {
            string text = AboutTopicWriter.Write(Sample);
            string[] lines = Lines(text);

            Assert.Contains("    This paragraph is long enough that it has to be wrapped at eighty columns,", lines);
            Assert.Contains("    and it mentions bold text, emphasis, a link (https://example.test/docs),", lines);
            Assert.Contains("    NEN_API_KEY and about_Sample, which keep their underscores.", lines);
            Assert.Contains("    - a first item that is long enough to need a second line when it is wrapped", lines);
            Assert.Contains("      at the width of eighty columns", lines);
            Assert.Contains("    Name     Meaning", lines);
            Assert.Contains("    -------  ---------------", lines);
            Assert.Contains("    -Force   do it again", lines);
            Assert.Contains("        Get-Thing | Set-Thing -Value 'kept exactly as written, even beyond eighty columns of width in all'", lines);
            Assert.Contains("        Get-Other", lines);
            Assert.Contains("    A subheading", lines);
            Assert.DoesNotMatch(@"(?m)^\s*#|`|\*\*|\]\(|^\s*\|", text);
            Assert.All(lines.Where(l => !l.Contains("Set-Thing")), l => Assert.True(l.Length <= AboutTopicWriter.Width, $"{l.Length} columns: {l}"));
        }

        [Fact]
        public void AboutNenAiComesOutAsPlainTextWithinEightyColumns()
        {
            string text = AboutTopicWriter.Write(File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "en-US", "about_NenAi.md")));
            string[] lines = Lines(text);

            Assert.Equal("TOPIC", lines[0]);
            Assert.Equal("    about_NenAi", lines[1]);
            Assert.Equal("SHORT DESCRIPTION", lines[3]);
            Assert.Equal("    Drive the Nen workflow-automation API from PowerShell.", lines[4]);
            foreach (string heading in new[] { "LONG DESCRIPTION", "CONFIGURATION", "SECRETS", "SESSIONS", "BATCHES", "JOURNALS", "RESULTS", "ERRORS", "SEE ALSO" })
                Assert.Contains(heading, lines);
            Assert.DoesNotMatch(@"(?m)^#|`|\*\*", text);
            // Only the error table's category lines (one line each, as the ERRORS checks read them) may be wider.
            Assert.All(lines.Where(l => !Regex.IsMatch(l, @"^        Nen\w+\s{2,}\w+, ")), l => Assert.True(l.Length <= AboutTopicWriter.Width, $"{l.Length} columns: {l}"));
        }
    }
}
