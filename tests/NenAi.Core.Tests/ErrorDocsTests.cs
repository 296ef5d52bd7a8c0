using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using NenAi.Core.Errors;
using NenAi.Core.Tests.Infrastructure;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// about_NenAi's ERRORS section lists exactly the error ids the code can raise (NenErrorIds and any literal id in
    /// src/NenAi and src/NenAi.Core), each with every category the code gives it and what to do.
    /// </summary>
    public class ErrorDocsTests
    {
        private static readonly string About = Path.Combine(RepoPaths.Root, "docs", "en-US", "about_NenAi.md");
        private static readonly string[] Sources = { Path.Combine(RepoPaths.Root, "src", "NenAi"), Path.Combine(RepoPaths.Root, "src", "NenAi.Core") };

        private static IEnumerable<string> SourceFiles() =>
            Sources.SelectMany(d => Directory.GetFiles(d, "*.cs", SearchOption.AllDirectories))
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"));

        /// <summary>Source text without comments (ids named in a comment are not raised).</summary>
        private static string Code(string file) => Regex.Replace(File.ReadAllText(file), @"//[^\n]*", string.Empty);

        private static Dictionary<string, string> Constants() =>
            typeof(NenErrorIds).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral)
                .ToDictionary(f => f.Name, f => (string)f.GetRawConstantValue()!);

        /// <summary>Every id the code can raise: the NenErrorIds constants and "Nen..." literals that are no cmdlet noun.</summary>
        private static SortedSet<string> IdsInCode()
        {
            var ids = new SortedSet<string>(Constants().Values, StringComparer.Ordinal);
            foreach (string file in SourceFiles())
            {
                string code = Code(file);
                var nouns = Regex.Matches(code, @"\[Cmdlet\([^,]+,\s*""(\w+)""").Select(m => m.Groups[1].Value).ToHashSet();
                foreach (Match m in Regex.Matches(code, @"""(Nen[A-Z][A-Za-z]*)"""))
                {
                    string literal = m.Groups[1].Value;
                    if (literal != "NenAi" && !nouns.Contains(literal) && !file.EndsWith("NenErrorIds.cs", StringComparison.Ordinal)) ids.Add(literal);
                }
            }
            return ids;
        }

        /// <summary>(id, category) wherever the code states both together: new NenException(id, category, ...), the HTTP mapping, defaults.</summary>
        private static List<(string Id, string Category, string Where)> CategoriesInCode()
        {
            Dictionary<string, string> constants = Constants();
            var pairs = new List<(string, string, string)>();
            var pattern = new Regex(@"(?:NenErrorIds\.(?<const>\w+)|""(?<literal>Nen[A-Z][A-Za-z]*)"")\s*[,;]\s*(?:NenErrorCategory\s+\w+\s*=\s*|category\s*=\s*)?NenErrorCategory\.(?<category>\w+)");
            foreach (string file in SourceFiles())
            {
                foreach (Match m in pattern.Matches(Code(file)))
                {
                    string id = m.Groups["const"].Success ? constants[m.Groups["const"].Value] : m.Groups["literal"].Value;
                    pairs.Add((id, m.Groups["category"].Value, Path.GetFileName(file)));
                }
            }
            return pairs;
        }

        /// <summary>The ERRORS section's entries: "    NenId    Category[, Category]" followed by indented lines saying what to do.</summary>
        internal static Dictionary<string, (string[] Categories, string Text)> Documented(string about)
        {
            int start = about.IndexOf("## ERRORS", StringComparison.Ordinal);
            int end = about.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
            string[] lines = about.Substring(start, end - start).Replace("\r\n", "\n").Split('\n');
            var entries = new Dictionary<string, (string[], string)>(StringComparer.Ordinal);
            for (int i = 0; i < lines.Length; i++)
            {
                Match m = Regex.Match(lines[i], @"^    (Nen[A-Z]\w*)\s{2,}([A-Za-z]+(?:, [A-Za-z]+)*)\s*$");
                if (!m.Success) continue;
                var text = new List<string>();
                while (i + 1 < lines.Length && lines[i + 1].StartsWith("        ", StringComparison.Ordinal)) text.Add(lines[++i].Trim());
                Assert.False(entries.ContainsKey(m.Groups[1].Value), $"{m.Groups[1].Value} is documented twice");
                entries[m.Groups[1].Value] = (m.Groups[2].Value.Split(", "), string.Join(" ", text));
            }
            return entries;
        }

        [Fact]
        public void EveryIdTheCodeCanRaiseIsDocumentedAndEveryDocumentedIdExists()
        {
            SortedSet<string> code = IdsInCode();
            var documented = Documented(File.ReadAllText(About));

            Assert.Empty(code.Where(id => !documented.ContainsKey(id)).Select(id => "raised but not documented in about_NenAi: " + id));
            Assert.Empty(documented.Keys.Where(id => !code.Contains(id)).Select(id => "documented in about_NenAi but never raised: " + id));
        }

        [Fact]
        public void EachIdIsDocumentedWithEveryCategoryTheCodeGivesItAndWhatToDo()
        {
            var documented = Documented(File.ReadAllText(About));
            var categories = Enum.GetNames(typeof(NenErrorCategory)).ToHashSet();
            List<(string Id, string Category, string Where)> inCode = CategoriesInCode();

            Assert.True(inCode.Count > 40, $"only {inCode.Count} (id, category) pairs found in the code");
            Assert.NotEmpty(documented);
            foreach (var (id, (documentedCategories, text)) in documented)
            {
                Assert.All(documentedCategories, c => Assert.True(categories.Contains(c), $"{id}: '{c}' is not an error category"));
                Assert.True(text.Length > 20, $"{id} does not say what it means or what to do");
            }
            Assert.Empty(inCode.Where(p => documented.TryGetValue(p.Id, out var d) && !d.Categories.Contains(p.Category))
                .Select(p => $"{p.Id} is raised as {p.Category} in {p.Where}, which about_NenAi does not list"));
        }

        [Fact]
        public void AnUndocumentedIdOrCategoryIsCaught()
        {
            // The checks above must be able to fail: drop an entry, and a category, from a copy of the topic.
            string about = File.ReadAllText(About);
            string withoutEntry = Regex.Replace(about, @"\n    NenRunNotStarted .*\n(        .*\n)+", "\n");
            string withoutCategory = about.Replace("WriteError, ObjectNotFound, ResourceUnavailable, ConnectionError", "WriteError, ObjectNotFound, ResourceUnavailable");

            Assert.False(Documented(withoutEntry).ContainsKey("NenRunNotStarted"));
            Assert.True(Documented(about).ContainsKey("NenRunNotStarted"));
            Assert.Contains(CategoriesInCode(), p => p.Id == "NenDownloadFailed" && p.Category == "ConnectionError");
            Assert.DoesNotContain("ConnectionError", Documented(withoutCategory)["NenDownloadFailed"].Categories);
        }
    }
}
