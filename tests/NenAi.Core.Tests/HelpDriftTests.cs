using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using NenAi.Core.Tests.Infrastructure;
using NenAi.HelpGen;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>Help cannot drift from code: every cmdlet and parameter of NenAi.dll must be documented, and vice versa.</summary>
    public class HelpDriftTests
    {
        private static readonly string Docs = Path.Combine(CmdletMetadata.RepoRoot, "docs", "en-US");
        private static readonly string[] Exported = { "Start-NenRun", "Wait-NenRun", "Get-NenRun", "Get-NenRunResult", "Test-NenWebhookSignature", "Receive-NenWebhook", "Connect-NenService", "Get-NenConnection", "Disconnect-NenService" };

        public static IEnumerable<object[]> Cmdlets() => Exported.Select(n => new object[] { n });

        [Fact]
        public void TheAssemblyDeclaresExactlyTheManifestsCmdlets()
        {
            var declared = CmdletMetadata.Load().Select(c => c.Name).OrderBy(n => n);
            Assert.Equal(Exported.OrderBy(n => n), declared);
            string manifest = File.ReadAllText(Path.Combine(CmdletMetadata.RepoRoot, "NenAi.psd1"));
            Assert.Contains("CmdletsToExport      = @('" + string.Join("', '", Exported) + "')", manifest);
        }

        [Theory]
        [MemberData(nameof(Cmdlets))]
        public void EveryParameterIsDocumentedWithItsTypeAndPipelineInput(string name)
        {
            DeclaredCmdlet cmdlet = CmdletMetadata.Load().Single(c => c.Name == name);
            CommandHelp help = PlatyMarkdownReader.ReadFile(Path.Combine(Docs, name + ".md"));
            Assert.Equal(name, help.Name);

            var expected = cmdlet.Parameters.Select(p => p.Name).ToList();
            if (cmdlet.SupportsShouldProcess) expected.AddRange(new[] { "WhatIf", "Confirm" });
            Assert.Equal(expected.OrderBy(n => n), help.Parameters.Select(p => p.Name).OrderBy(n => n));

            foreach (DeclaredParameter p in cmdlet.Parameters)
            {
                ParameterHelp doc = help.Parameters.Single(d => d.Name == p.Name);
                Assert.False(string.IsNullOrWhiteSpace(doc.Description), $"{name} -{p.Name} has no description");
                Assert.Equal(p.TypeName, doc.Field("Type"));
                Assert.Equal(p.Mandatory ? "True" : "False", doc.Field("Required"));
                string pipeline = doc.Field("Accept pipeline input");
                Assert.Equal(p.ByValue, pipeline.Contains("ByValue"));
                Assert.Equal(p.ByPropertyName, pipeline.Contains("ByPropertyName"));
                Assert.Equal(p.Sets.Contains("(All)") ? "(All)" : string.Join(", ", p.Sets.OrderBy(s => s)), doc.Field("Parameter Sets"));
                foreach (string alias in p.Aliases) Assert.Contains(alias, doc.Field("Aliases"));
            }
        }

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
            foreach (string section in new[] { "## CONFIGURATION", "## SECRETS", "## SESSIONS", "## BATCHES", "## JOURNALS", "## ERRORS", "## THE EMULATOR" })
                Assert.Contains(section, about);
        }

        [Fact]
        public void GeneratedMamlHasEveryCmdletAndParameter()
        {
            var commands = Exported.Select(n => PlatyMarkdownReader.ReadFile(Path.Combine(Docs, n + ".md"))).ToList();
            XDocument maml = XDocument.Parse(MamlWriter.Write(commands));
            XNamespace command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
            XNamespace mamlNs = "http://schemas.microsoft.com/maml/2004/10";
            var written = maml.Root!.Elements(command + "command").ToList();
            Assert.Equal(Exported.Length, written.Count);
            foreach (DeclaredCmdlet cmdlet in CmdletMetadata.Load())
            {
                XElement element = written.Single(c => c.Element(command + "details")!.Element(command + "name")!.Value == cmdlet.Name);
                var parameters = element.Element(command + "parameters")!.Elements(command + "parameter").Select(p => p.Element(mamlNs + "name")!.Value).ToHashSet();
                Assert.All(cmdlet.Parameters, p => Assert.Contains(p.Name, parameters));
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
            DeclaredCmdlet cmdlet = CmdletMetadata.Load().Single(c => c.Name == "Wait-NenRun");
            Assert.Contains(cmdlet.Parameters, p => help.Parameters.All(d => d.Name != p.Name));
        }
    }
}
