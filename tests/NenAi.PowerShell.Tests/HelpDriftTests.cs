using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using NenAi.HelpGen;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// Help cannot drift from code: every cmdlet the manifest exports, and every parameter as the engine binds it
    /// (its type, parameter sets, pipeline input, aliases: Get-Command's own metadata), is documented, and vice versa.
    /// </summary>
    public class HelpDriftTests
    {
        private static readonly string Docs = Path.Combine(DocExamples.RepoRoot, "docs", "en-US");

        /// <summary>CmdletsToExport of NenAi.psd1: the one list of the module's commands.</summary>
        private static string[] Exported()
        {
            string manifest = File.ReadAllText(Path.Combine(DocExamples.RepoRoot, "NenAi.psd1"));
            string list = Regex.Match(manifest, @"CmdletsToExport\s*=\s*@\(([^)]*)\)").Groups[1].Value;
            return Regex.Matches(list, "'([^']+)'").Select(m => m.Groups[1].Value).ToArray();
        }

        public static TheoryData<string> Cmdlets() => new(Exported());

        /// <summary>The module's commands as the engine has them after Import-Module (shared: the metadata does not change).</summary>
        private static readonly Lazy<Dictionary<string, CmdletInfo>> Commands = new(() =>
        {
            using var ps = new PsSession();
            return ps.Run("Get-Command -Module NenAi").AssertClean().BaseOutput.Cast<CmdletInfo>().ToDictionary(c => c.Name);
        });

        private static readonly HashSet<string> CommonParameters =
            new(Cmdlet.CommonParameters.Concat(Cmdlet.OptionalCommonParameters), StringComparer.OrdinalIgnoreCase);

        [Fact]
        public void TheModuleHasExactlyTheManifestsCmdletsEachWithItsPage()
        {
            Assert.Equal(Exported().OrderBy(n => n), Commands.Value.Keys.OrderBy(n => n));
            Assert.All(Exported(), n => Assert.True(File.Exists(Path.Combine(Docs, n + ".md")), $"{n} has no page in docs/en-US"));
        }

        [Theory]
        [MemberData(nameof(Cmdlets))]
        public void EveryParameterIsDocumentedWithItsTypeSetsAndPipelineInput(string name)
        {
            CmdletInfo cmdlet = Commands.Value[name];
            CommandHelp help = PlatyMarkdownReader.ReadFile(Path.Combine(Docs, name + ".md"));
            Assert.Equal(name, help.Name);

            var declared = cmdlet.Parameters.Values.Where(p => !CommonParameters.Contains(p.Name)).ToList();
            Assert.Equal(declared.Select(p => p.Name).OrderBy(n => n), help.Parameters.Select(p => p.Name).Where(n => !CommonParameters.Contains(n)).OrderBy(n => n));

            foreach (ParameterMetadata p in declared)
            {
                ParameterHelp doc = help.Parameters.Single(d => d.Name == p.Name);
                Assert.False(string.IsNullOrWhiteSpace(doc.Description), $"{name} -{p.Name} has no description");
                Assert.Equal(TypeName(p.ParameterType), doc.Field("Type"));
                var sets = p.ParameterSets;
                Assert.Equal(sets.Values.Any(s => s.IsMandatory) ? "True" : "False", doc.Field("Required"));
                string pipeline = doc.Field("Accept pipeline input");
                Assert.Equal(sets.Values.Any(s => s.ValueFromPipeline), pipeline.Contains("ByValue"));
                Assert.Equal(sets.Values.Any(s => s.ValueFromPipelineByPropertyName), pipeline.Contains("ByPropertyName"));
                Assert.Equal(sets.ContainsKey(ParameterAttribute.AllParameterSets) ? "(All)" : string.Join(", ", sets.Keys.OrderBy(s => s)), doc.Field("Parameter Sets"));
                foreach (string alias in p.Aliases) Assert.Contains(alias, doc.Field("Aliases"));
            }
        }

        [Theory]
        [MemberData(nameof(Cmdlets))]
        public void EveryNumericDefaultInTheHelpIsTheOneTheCmdletHas(string name)
        {
            // The help's "Default value" of a number is the property's value on a new cmdlet (one default per
            // parameter, wherever the base class declares it: -ThrottleLimit is 8 on Start-NenRun, 16 on the status queriers).
            CmdletInfo cmdlet = Commands.Value[name];
            object fresh = Activator.CreateInstance(cmdlet.ImplementingType)!;
            CommandHelp help = PlatyMarkdownReader.ReadFile(Path.Combine(Docs, name + ".md"));
            int checkedCount = 0;
            foreach (ParameterMetadata p in cmdlet.Parameters.Values.Where(p => p.ParameterType == typeof(int) || p.ParameterType == typeof(double)))
            {
                if (CommonParameters.Contains(p.Name)) continue;
                string documented = help.Parameters.Single(d => d.Name == p.Name).Field("Default value");
                object actual = cmdlet.ImplementingType.GetProperty(p.Name)!.GetValue(fresh)!;
                Assert.True(documented == "None" ? Convert.ToDouble(actual) == 0 : double.Parse(documented, System.Globalization.CultureInfo.InvariantCulture) == Convert.ToDouble(actual),
                    $"{name} -{p.Name}: the help says {documented}, the cmdlet has {actual}");
                checkedCount++;
            }
            if (name == "Start-NenRun" || name == "Wait-NenRun") Assert.True(checkedCount >= 3);
        }

        [Theory]
        [MemberData(nameof(Cmdlets))]
        public void EverySyntaxOfThePageOffersOnlyWhatItsParameterSetHas(string name)
        {
            // Get-Help prints these blocks: a parameter the set does not take must not be offered (issue 20:
            // Get-NenRun -JournalPath offered every connection parameter, which it never uses).
            CmdletInfo cmdlet = Commands.Value[name];
            CommandHelp help = PlatyMarkdownReader.ReadFile(Path.Combine(Docs, name + ".md"));
            Assert.Equal(cmdlet.ParameterSets.Count, help.Syntax.Count);
            foreach (CommandParameterSetInfo set in cmdlet.ParameterSets)
            {
                var inSet = set.Parameters.Select(p => p.Name).Where(n => !CommonParameters.Contains(n)).ToHashSet();
                // The block of this set: the one whose parameters are exactly the set's (sets differ in at least one).
                Assert.Contains(help.Syntax, block => Offered(block.Text).SetEquals(inSet));
            }
        }

        private static HashSet<string> Offered(string syntax) =>
            Regex.Matches(syntax, @"(?<=[\s\[])-(\w+)").Select(m => m.Groups[1].Value).Where(n => !CommonParameters.Contains(n) && n != "CommonParameters").ToHashSet();

        [Theory]
        [MemberData(nameof(Cmdlets))]
        public void EveryCmdletHasSynopsisDescriptionAndThreeExamples(string name)
        {
            CommandHelp help = PlatyMarkdownReader.ReadFile(Path.Combine(Docs, name + ".md"));
            Assert.False(string.IsNullOrWhiteSpace(help.Synopsis));
            Assert.True(help.Description.Length > 200);
            Assert.True(help.Examples.Count >= 3, $"{name} has {help.Examples.Count} examples");
            Assert.All(help.Examples, e => Assert.False(string.IsNullOrWhiteSpace(e.Code)));
            Assert.NotEmpty(help.Outputs);
        }

        [Fact]
        public void TheAboutTopicCoversWhatASysadminNeeds()
        {
            string about = File.ReadAllText(Path.Combine(Docs, "about_NenAi.md"));
            foreach (string section in new[] { "## CONFIGURATION", "## SECRETS", "## SESSIONS", "## BATCHES", "## JOURNALS", "## ROWS AND SUMMARIES", "## ERRORS", "## THE EMULATOR" })
                Assert.Contains(section, about);
        }

        [Fact]
        public void GeneratedMamlHasEveryCmdletAndParameter()
        {
            var commands = Exported().Select(n => PlatyMarkdownReader.ReadFile(Path.Combine(Docs, n + ".md"))).ToList();
            XDocument maml = XDocument.Parse(MamlWriter.Write(commands));
            XNamespace command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
            XNamespace mamlNs = "http://schemas.microsoft.com/maml/2004/10";
            var written = maml.Root!.Elements(command + "command").ToList();
            Assert.Equal(Exported().Length, written.Count);
            foreach (CmdletInfo cmdlet in Commands.Value.Values)
            {
                XElement element = written.Single(c => c.Element(command + "details")!.Element(command + "name")!.Value == cmdlet.Name);
                var parameters = element.Element(command + "parameters")!.Elements(command + "parameter").Select(p => p.Element(mamlNs + "name")!.Value).ToHashSet();
                Assert.All(cmdlet.Parameters.Keys.Where(n => !CommonParameters.Contains(n)), p => Assert.Contains(p, parameters));
                Assert.True(element.Element(command + "examples")!.Elements().Count() >= 3);
            }
        }

        [Fact]
        public void AMissingParameterDescriptionIsCaught()
        {
            // The check above must be able to fail: drop one parameter from a copy of the markdown.
            string text = File.ReadAllText(Path.Combine(Docs, "Wait-NenRun.md"));
            int start = text.IndexOf("### -Any", StringComparison.Ordinal);
            int end = text.IndexOf("### -", start + 5, StringComparison.Ordinal);
            CommandHelp help = PlatyMarkdownReader.Read(text.Remove(start, end - start));
            Assert.Contains(Commands.Value["Wait-NenRun"].Parameters.Keys, p => !CommonParameters.Contains(p) && help.Parameters.All(d => d.Name != p));
        }

        private static string TypeName(Type type)
        {
            if (type.IsArray) return TypeName(type.GetElementType()!) + "[]";
            if (Nullable.GetUnderlyingType(type) is Type inner) return TypeName(inner);
            return type.Name;
        }
    }
}
