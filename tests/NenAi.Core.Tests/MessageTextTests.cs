using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using NenAi.Core.Tests.Infrastructure;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// Every message the module can produce (errors, warnings, verbose and debug lines, ShouldProcess text, the loader's
    /// refusals) is ASCII: a scheduled task's log is written in the OEM code page, where "→" and "…" become "?".
    /// Checked on the source: every string and character literal of src/NenAi and src/NenAi.Core (comments may say what
    /// they like), and the loader scripts, which are all message.
    /// </summary>
    public class MessageTextTests
    {
        private static readonly string[] Sources = { Path.Combine(RepoPaths.Root, "src", "NenAi"), Path.Combine(RepoPaths.Root, "src", "NenAi.Core") };

        private static IEnumerable<string> SourceFiles() =>
            Sources.SelectMany(d => Directory.GetFiles(d, "*.cs", SearchOption.AllDirectories))
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"));

        [Fact]
        public void EveryStringLiteralOfTheProductIsAscii()
        {
            var found = new List<string>();
            int literals = 0;
            foreach (string file in SourceFiles())
            {
                foreach (var (line, text) in Literals(File.ReadAllText(file)))
                {
                    literals++;
                    if (text.Any(c => c > 127)) found.Add($"{Path.GetFileName(file)}:{line}: {text}");
                }
            }

            Assert.True(literals > 500, $"only {literals} literals found: the scanner is broken");
            Assert.True(found.Count == 0, "non-ASCII message text:\n" + string.Join("\n", found));
        }

        [Theory]
        [InlineData("NenAi.psm1")]
        [InlineData("NenAi.Requirements.ps1")]
        public void TheLoaderScriptsAreAscii(string file)
        {
            string text = File.ReadAllText(Path.Combine(RepoPaths.Root, file));
            Assert.DoesNotContain(text, c => c > 127);
        }

        [Fact]
        public void TheScannerFindsWhatItLooksFor()
        {
            const string code = "// a comment → is fine\n var a = \"plain\"; var b = $\"{(x ? \"in → hole\" : @\"verb\"\"atim\")} tail…\"; /* → */ char c = '→';";

            var literals = Literals(code).Select(l => l.Text).ToList();

            Assert.Contains("plain", literals);
            Assert.Contains("in → hole", literals);
            Assert.Contains("verb\"atim", literals);
            Assert.Contains(literals, l => l.Contains("tail…"));
            Assert.Contains("→", literals);
            Assert.DoesNotContain(literals, l => l.Contains("comment"));
        }

        /// <summary>The string and character literals of C# source, with the line each starts on (nested ones in interpolation holes too).</summary>
        internal static List<(int Line, string Text)> Literals(string code)
        {
            var found = new List<(int, string)>();
            int i = 0;
            int Line(int at) => code.Take(at).Count(c => c == '\n') + 1;
            while (i < code.Length)
            {
                char c = code[i];
                if (c == '/' && i + 1 < code.Length && code[i + 1] == '/') { while (i < code.Length && code[i] != '\n') i++; continue; }
                if (c == '/' && i + 1 < code.Length && code[i + 1] == '*') { int end = code.IndexOf("*/", i + 2, StringComparison.Ordinal); i = end < 0 ? code.Length : end + 2; continue; }
                if (c == '\'')
                {
                    int start = i++;
                    var text = new StringBuilder();
                    while (i < code.Length && code[i] != '\'') { if (code[i] == '\\') text.Append(code[i++]); text.Append(code[i++]); }
                    i++;
                    found.Add((Line(start), text.ToString()));
                    continue;
                }
                if (c == '"' || ((c == '$' || c == '@') && i + 1 < code.Length && (code[i + 1] == '"' || ((code[i + 1] == '$' || code[i + 1] == '@') && i + 2 < code.Length && code[i + 2] == '"'))))
                {
                    int start = i;
                    i = ReadString(code, i, found, Line(start));
                    continue;
                }
                i++;
            }
            return found;
        }

        /// <summary>Reads the string literal at <paramref name="i"/> (any prefix of $ and @), adds it and any literal nested in its holes, and returns the index after it.</summary>
        private static int ReadString(string code, int i, List<(int, string)> found, int line)
        {
            bool interpolated = false, verbatim = false;
            while (code[i] != '"') { if (code[i] == '$') interpolated = true; if (code[i] == '@') verbatim = true; i++; }
            i++;
            var text = new StringBuilder();
            while (i < code.Length)
            {
                char c = code[i];
                if (verbatim && c == '"' && i + 1 < code.Length && code[i + 1] == '"') { text.Append('"'); i += 2; continue; }
                if (c == '"') { i++; break; }
                if (!verbatim && c == '\\') { text.Append(code, i, 2); i += 2; continue; }
                if (interpolated && c == '{' && i + 1 < code.Length && code[i + 1] == '{') { text.Append('{'); i += 2; continue; }
                if (interpolated && c == '{')
                {
                    // A hole: code, possibly with literals of its own, up to the matching brace.
                    int depth = 1;
                    i++;
                    while (i < code.Length && depth > 0)
                    {
                        char h = code[i];
                        if (h == '"' || ((h == '$' || h == '@') && i + 1 < code.Length && (code[i + 1] == '"' || code[i + 1] == '$' || code[i + 1] == '@')))
                        {
                            i = ReadString(code, i, found, line);
                            continue;
                        }
                        if (h == '\'') { i++; while (i < code.Length && code[i] != '\'') { if (code[i] == '\\') i++; i++; } i++; continue; }
                        if (h == '{') depth++;
                        if (h == '}') depth--;
                        i++;
                    }
                    text.Append("{...}");
                    continue;
                }
                text.Append(c);
                i++;
            }
            found.Add((line, text.ToString()));
            return i;
        }
    }
}
