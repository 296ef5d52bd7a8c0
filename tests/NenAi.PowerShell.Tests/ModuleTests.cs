using System.Linq;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>The module as a module: import and re-import, exports, help.</summary>
    public class ModuleTests : HostedTest
    {
        public static readonly string[] Cmdlets = { "Connect-NenService", "Disconnect-NenService", "Get-NenConnection", "Get-NenRun", "Get-NenRunResult", "Receive-NenWebhook", "Start-NenRun", "Test-NenWebhookSignature", "Wait-NenRun" };

        public static TheoryData<string> EachCmdlet() => new(Cmdlets);

        private const string WholePipeline = @"
            $files = $rows | Start-NenRun -WorkflowId $filesWf | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 30 | Get-NenRunResult -Destination $TestDrive
            $valid = Test-NenWebhookSignature -Body '{""workflow_id"":""w"",""message_id"":""m"",""status"":""processing"",""expires_at"":1730319600}' -Signature 'sha256=21996d5aa24b68f926846745201355ffbd33bfef0e44e151d11bf2f2ae5c1ecb' -Secret $hook
            [pscustomobject]@{ Files = @($files).Count; Valid = $valid }";

        [Fact]
        public void ImportModuleForceTwiceLeavesEveryCmdletWorking()
        {
            PsResult r = Run("Import-Module $manifest -Force; Import-Module $manifest -Force" + WholePipeline,
                ("manifest", PsSession.Manifest), ("rows", CsvRows.Parse("NAME\nAda")), ("hook", PsSession.Secure("whsec-test"))).AssertClean();

            var summary = Assert.Single(r.Output);
            Assert.Equal(3, PsResult.Prop(summary, "Files"));
            Assert.Equal(true, PsResult.Prop(summary, "Valid"));
            Assert.Equal(Cmdlets, Run("(Get-Command -Module NenAi).Name").AssertClean().BaseOutput.Cast<string>().OrderBy(n => n));
        }

        [Fact]
        public void TheWebhookSecretHasTheSameNameOnBothWebhookCmdlets()
        {
            // Before: Test-NenWebhookSignature -WebhookSecret was "A parameter cannot be found", though Receive-NenWebhook
            // names it so (and takes -Secret as an alias).
            PsResult r = Run("Test-NenWebhookSignature -Body '{\"workflow_id\":\"w\",\"message_id\":\"m\",\"status\":\"processing\",\"expires_at\":1730319600}' -Signature 'sha256=21996d5aa24b68f926846745201355ffbd33bfef0e44e151d11bf2f2ae5c1ecb' -WebhookSecret $hook",
                ("hook", PsSession.Secure("whsec-test"))).AssertClean();
            Assert.Equal(true, Assert.Single(r.BaseOutput));
            Assert.Contains("Secret", Run("(Get-Command Receive-NenWebhook).Parameters['WebhookSecret'].Aliases").AssertClean().BaseOutput.Cast<string>());
        }

        [Fact]
        public void ASessionWithoutTheModuleImportsItRemovesItAndImportsItAgain()
        {
            using var plain = new PsSession(importModule: false);
            plain.Set("manifest", PsSession.Manifest);
            Assert.Empty(plain.Run("Get-Command -Module NenAi").AssertClean().Output);

            PsResult r = plain.Run("Import-Module $manifest; Remove-Module NenAi; Import-Module $manifest -PassThru | ForEach-Object { $_.Name; $_.Version.ToString() }; (Get-Command -Module NenAi).Count").AssertClean();

            string version = System.Text.RegularExpressions.Regex.Match(System.IO.File.ReadAllText(PsSession.Manifest), @"ModuleVersion\s*=\s*'([0-9.]+)'").Groups[1].Value;
            Assert.Equal(new object[] { "NenAi", version, Cmdlets.Length }, r.BaseOutput.ToArray());
        }

        [Fact]
        public void TheModuleExportsExactlyTheCmdletsItsManifestLists()
        {
            PsResult r = Run(@"
                $module = Get-Module NenAi
                [pscustomobject]@{
                    Declared = @((Test-ModuleManifest $manifest).ExportedCmdlets.Keys)
                    Exported = @($module.ExportedCmdlets.Keys)
                    Commands = @((Get-Command -Module NenAi).Name)
                    Others = $module.ExportedFunctions.Count + $module.ExportedAliases.Count + $module.ExportedVariables.Count
                }", ("manifest", PsSession.Manifest)).AssertClean();

            PSObjectAssert(Assert.Single(r.Output));
        }

        private static void PSObjectAssert(System.Management.Automation.PSObject summary)
        {
            foreach (string list in new[] { "Declared", "Exported", "Commands" })
                Assert.Equal(Cmdlets, ((object[])PsResult.Prop(summary, list)!).Select(o => o.ToString()).OrderBy(n => n));
            Assert.Equal(0, PsResult.Prop(summary, "Others"));
        }

        [Theory]
        [MemberData(nameof(EachCmdlet))]
        public void GetHelpFindsSynopsisEveryParameterAndThreeExamples(string cmdlet)
        {
            PsResult r = Run(@"
                $help = Get-Help $name -Full
                $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
                [pscustomobject]@{
                    Synopsis = $help.Synopsis
                    Examples = @($help.Examples.Example).Count
                    Documented = @($help.Parameters.Parameter.Name | Where-Object { $_ })   # none for a cmdlet without parameters
                    Declared = @((Get-Command $name).Parameters.Keys | Where-Object { $_ -notin $common })
                    Description = ($help.Description.Text -join ' ')
                }", ("name", cmdlet)).AssertClean();

            var help = Assert.Single(r.Output);
            string synopsis = (string)PsResult.Prop(help, "Synopsis")!;
            Assert.False(string.IsNullOrWhiteSpace(synopsis));
            Assert.DoesNotContain("[-", synopsis); // not the syntax line Get-Help makes up when no help is found
            Assert.False(string.IsNullOrWhiteSpace((string?)PsResult.Prop(help, "Description")));
            Assert.True((int)PsResult.Prop(help, "Examples")! >= 3);
            var documented = ((object[])PsResult.Prop(help, "Documented")!).Select(o => o.ToString()).ToHashSet();
            foreach (object declared in (object[])PsResult.Prop(help, "Declared")!)
                Assert.Contains(declared.ToString(), documented);
        }

        [Fact]
        public void GetHelpGetNenRunOffersNoConnectionParameterOnTheJournalSyntax()
        {
            // Listing a journal sends nothing, so -ApiKey, -Proxy and the rest are neither offered nor bound there.
            PsResult r = Run(@"
                $syntax = (Get-Help Get-NenRun).Syntax.SyntaxItem | Where-Object { $_.Parameter.Name -contains 'JournalPath' }
                @($syntax).Count
                @($syntax.Parameter.Name) -join ','
                @((Get-Help Get-NenRun).Syntax.SyntaxItem | Where-Object { $_.Parameter.Name -contains 'MessageId' }).Parameter.Name -contains 'ApiKey'
                try { Get-NenRun -JournalPath nothing.jsonl -ApiKey $key } catch { $_.FullyQualifiedErrorId }",
                ("key", PsSession.Secure("k"))).AssertClean();

            object[] said = r.BaseOutput.ToArray();
            Assert.Equal(1, said[0]);
            Assert.Equal("JournalPath,SummaryVariable", said[1]);
            Assert.Equal(true, said[2]);
            Assert.StartsWith("AmbiguousParameterSet", (string)said[3]);
        }

        [Fact]
        public void AboutNenAiIsFoundByGetHelp()
        {
            PsResult r = Run("Get-Help about_NenAi | ForEach-Object { \"$_\" }").AssertClean();

            string text = string.Join("\n", r.BaseOutput);
            Assert.Contains("NenMissingApiKey", text);
            Assert.Contains("JOURNALS", text);
        }

        [Fact]
        public void GetHelpAboutNenAiPrintsPlainTextLikeTheBuiltInTopics()
        {
            PsResult r = Run("Get-Help about_NenAi | Out-String -Width 120; (Get-Help about_* | Where-Object Name -EQ about_NenAi).Synopsis").AssertClean();

            string[] lines = ((string)r.BaseOutput.First()).Replace("\r\n", "\n").Split('\n');
            Assert.Equal(new[] { "TOPIC", "    about_NenAi", "", "SHORT DESCRIPTION", "    Drive the Nen workflow-automation API from PowerShell.", "", "LONG DESCRIPTION" }, lines.SkipWhile(l => l.Length == 0).Take(7));
            Assert.DoesNotContain(lines, l => l.StartsWith("#", System.StringComparison.Ordinal) || l.Contains('`') || l.Contains("**"));
            Assert.Contains("SESSIONS", lines);
            Assert.Equal("Drive the Nen workflow-automation API from PowerShell.", r.BaseOutput.Last());
        }
    }
}
