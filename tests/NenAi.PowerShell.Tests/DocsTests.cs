using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using NenAi.Emulator;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// The hosted twin of tests/pester/Docs.Tests.ps1: every documented example uses only parameters the cmdlets
    /// have, and the help examples that need nothing beyond the engine run cleanly against the emulator's demo
    /// configuration, with the real Utility cmdlets (Import-Csv, Export-Csv) of the SDK. README blocks run as written,
    /// each in a fresh pwsh, in the Pester suite; the CSV recipe and the webhook receiver also run here.
    /// </summary>
    [Collection(ProcessEnvironment.Name)]
    public class DocsTests : HostedTest
    {
        public static TheoryData<string> AllExamples() => new(DocExamples.All().Select(e => e.ToString()));

        public static TheoryData<string> EngineOnlyExamples() =>
            new(DocExamples.All().Where(e => e.Source != "README" && DocExamples.MissingCommands(e).Count == 0 && !WaitsForADelivery(e)).Select(e => e.ToString()));

        /// <summary>A receiver that starts no run of its own waits for a delivery: the Pester suite sends it signed ones.</summary>
        private static bool WaitsForADelivery(DocExamples.Example e) => e.Code.Contains("HttpListener") && !e.Code.Contains("-WebhookCallback");

        private static DocExamples.Example Find(string name) => DocExamples.All().Single(e => e.ToString() == name);

        protected override bool SessionDefaults => false;

        protected override void Configure(EmulatorConfig config) => PipelineTests.Demo(config);

        [Theory]
        [MemberData(nameof(AllExamples))]
        public void ExampleParsesAndBindsToTheCmdletsRealParameters(string example)
        {
            PsResult r = Run(@"
                $errors = $null
                $ast = [System.Management.Automation.Language.Parser]::ParseInput($code, [ref]$null, [ref]$errors)
                foreach ($e in $errors) { 'parse: ' + $e.Message }
                foreach ($command in $ast.FindAll({ $args[0] -is [System.Management.Automation.Language.CommandAst] }, $true)) {
                    $name = $command.GetCommandName()
                    if ($name -notlike '*-Nen*') { continue }
                    $binding = [System.Management.Automation.Language.StaticParameterBinder]::BindCommand($command, $true)
                    foreach ($problem in $binding.BindingExceptions.Values) { ""${name}: $($problem.BindingException.Message)"" }
                }", ("code", Find(example).Code)).AssertClean();

            Assert.Empty(r.BaseOutput);
        }

        [Theory]
        [MemberData(nameof(EngineOnlyExamples))]
        public void ExampleRunsCleanlyAgainstTheEmulator(string example)
        {
            using IDisposable env = ProcessEnvironment.Scope(("NEN_BASE_URL", Emulator.BaseUri.ToString()), ("NEN_API_KEY", "nen-demo-api-key"),
                ("NEN_SIGNING_KEY", "nen-demo-signing-key"), ("NEN_WEBHOOK_SECRET", "whsec-test"));
            File.Copy(Path.Combine(DocExamples.RepoRoot, "docs", "examples", "jobs.csv"), Path.Combine(TestDrive, "jobs.csv"));
            // The quick start names the emulator's default port, the webhook receiver its own; this run has free ones.
            string code = Find(example).Code.Replace("http://127.0.0.1:5080", Emulator.BaseUri.ToString().TrimEnd('/'))
                .Replace("http://127.0.0.1:8089/", $"http://127.0.0.1:{FreePort()}/");

            PsResult r = Run(@"
                $ExecutionContext.SessionState.Path.SetLocation($TestDrive) | Out-Null
                function Get-Secret { param([string] $Name) [System.Net.NetworkCredential]::new('', $(switch ($Name) { 'NenApiKey' { 'nen-demo-api-key' } 'NenSigningKey' { 'nen-demo-signing-key' } default { 'correct horse battery staple' } })).SecurePassword }
                " + code);

            Assert.Null(r.Terminating);
            Assert.DoesNotContain(r.Errors, e => !System.Text.RegularExpressions.Regex.IsMatch(e.FullyQualifiedErrorId, "^Nen(RunFailed|WaitTimeout)"));
        }

        [Fact]
        public void TheReadmeCsvRecipeSavesEveryGoodRunsFilesListsThemInACsvAndReportsTheFailedRow()
        {
            using IDisposable env = ProcessEnvironment.Scope(("NEN_BASE_URL", Emulator.BaseUri.ToString()), ("NEN_API_KEY", "nen-demo-api-key"), ("NEN_SIGNING_KEY", "nen-demo-signing-key"));
            File.Copy(Path.Combine(DocExamples.RepoRoot, "docs", "examples", "jobs.csv"), Path.Combine(TestDrive, "jobs.csv"));

            PsResult r = Run("$ExecutionContext.SessionState.Path.SetLocation($TestDrive) | Out-Null\n" + Find("README: A CSV batch").Code);

            Assert.Null(r.Terminating);
            string report = Assert.Single(r.BaseOutput.OfType<string>());
            Assert.StartsWith("NenRunFailed,NenAi.Commands.GetNenRunResultCommand: ", report);
            Assert.Contains("Customer not found in the ERP", report);
            var good = State.Ledger.Where(e => (string?)e.Params["CUSTOMER_NAME"] != "FAIL").Select(e => e.MessageId).ToList();
            Assert.Equal(3, good.Count);
            string[] listed = File.ReadAllLines(Path.Combine(TestDrive, "files.csv"));
            Assert.Contains("\"MessageId\"", listed[0]);
            Assert.All(good, id =>
            {
                Assert.True(File.Exists(Path.Combine(TestDrive, "results", id, "invoice.txt")));
                Assert.Contains(listed, line => line.Contains(id) && line.Contains("invoice.txt"));
            });
        }

        [Fact]
        public void TheReadmeCsvRecipePrintsTheErrorThatStoppedTheBatchWithARefusedKey()
        {
            // Issue 25: it printed ": " for it (-ErrorVariable held a CmdletInvocationException).
            using IDisposable env = ProcessEnvironment.Scope(("NEN_BASE_URL", Emulator.BaseUri.ToString()), ("NEN_API_KEY", "nen_demo_revoked-key"), ("NEN_SIGNING_KEY", "nen-demo-signing-key"));
            File.Copy(Path.Combine(DocExamples.RepoRoot, "docs", "examples", "jobs.csv"), Path.Combine(TestDrive, "jobs.csv"));

            PsResult r = Run("$ExecutionContext.SessionState.Path.SetLocation($TestDrive) | Out-Null\n" + Find("README: A CSV batch").Code);

            Assert.Null(r.Terminating);
            string report = Assert.Single(r.BaseOutput.OfType<string>());
            Assert.StartsWith("NenUnauthorized,NenAi.Commands.StartNenRunCommand: ", report);
            Assert.Contains("The API key was refused", report);
            Assert.Contains("4 not sent (rows 1-4;", report);
            Assert.DoesNotContain("revoked-key", r.AllText());
        }

        [Fact]
        public void TheReadmeCsvRecipePrintsAnErrorThatEndedItsCommand()
        {
            // The line that prints the errors reads an ErrorRecord, or the exception -ErrorVariable keeps for an error that
            // ended its command, alike.
            string print = Find("README: A CSV batch").Code.Split("Export-Csv ./files.csv -NoTypeInformation")[1];
            PsResult r = Run("try { @{ NAME = 'x' } | Start-NenRun -WorkflowId invoice-export -ErrorVariable startErrors } catch { }\n"
                + "$startErrors[0].GetType().Name\n$waitErrors = $resultErrors = @()\n" + print);

            Assert.Equal("CmdletInvocationException", r.BaseOutput.First());
            Assert.StartsWith("NenInvalidWorkflowId,NenAi.Commands.StartNenRunCommand: -WorkflowId: The workflow id 'invoice-export' is not a workflow id", (string)r.BaseOutput.Last());
        }

        [Fact]
        public void TheReadmeWebhookReceiverReceivesBothRunsAndSavesTheirFilesWithTheLinksTheWebhooksBrought()
        {
            using IDisposable env = ProcessEnvironment.Scope(("NEN_BASE_URL", Emulator.BaseUri.ToString()), ("NEN_API_KEY", "nen-demo-api-key"), ("NEN_SIGNING_KEY", "nen-demo-signing-key"));
            string code = Find("README: A webhook receiver").Code.Replace("http://127.0.0.1:8089/", $"http://127.0.0.1:{FreePort()}/");

            PsResult r = Run("$ExecutionContext.SessionState.Path.SetLocation($TestDrive) | Out-Null\n" + code).AssertClean();

            Assert.Equal(2, State.Ledger.Count);
            Assert.Equal(4, r.Output.Count); // invoice.txt and assets.zip of each run
            Assert.All(State.Ledger, run =>
            {
                Assert.True(File.Exists(Path.Combine(TestDrive, "webhook-results", run.MessageId, "invoice.txt")));
                Assert.Equal(0, State.GetsFor(run.MessageId)); // the links came with the webhook: no status query
            });
        }

        private static int FreePort()
        {
            var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            probe.Start();
            int port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            return port;
        }
    }

    /// <summary>./build.ps1 -Task Demo's batch, run as build.ps1 runs it ($ErrorActionPreference = 'Stop', strict mode).</summary>
    public class DemoTests : HostedTest
    {
        protected override void Configure(EmulatorConfig config) => PipelineTests.Demo(config);

        [Fact]
        public void TheDemoFinishesReportsTheFailedRunAndSavesEveryOtherRunsFiles()
        {
            Ps.Run("$PSDefaultParameterValues['*-Nen*:ApiKey'] = $key; $PSDefaultParameterValues['*-Nen*:SigningKey'] = $signing",
                ("key", PsSession.Secure("nen-demo-api-key")), ("signing", PsSession.Secure("nen-demo-signing-key"))).AssertClean();
            PSObject[] rows = CsvRows.Parse(File.ReadAllText(Path.Combine(DocExamples.RepoRoot, "docs", "examples", "jobs.csv")));

            PsResult r = Run(@"
                Set-StrictMode -Version Latest
                $ErrorActionPreference = 'Stop'
                $demo = $rows | & $script -Destination $TestDrive -JournalPath ([System.IO.Path]::Combine($TestDrive, 'demo.journal.jsonl'))
                $demo",
                ("rows", rows), ("script", Path.Combine(DocExamples.RepoRoot, "tools", "DemoBatch.ps1")));

            Assert.Null(r.Terminating);
            PSObject demo = Assert.Single(r.Output);
            var errors = ((object[])PsResult.Prop(demo, "Errors")!).Cast<ErrorRecord>().ToList();
            ErrorRecord failed = Assert.Single(errors);
            Assert.Equal("NenRunFailed,NenAi.Commands.GetNenRunResultCommand", failed.FullyQualifiedErrorId);
            Assert.Contains("Customer not found in the ERP", failed.Exception.Message);
            Assert.Single(r.Errors); // shown to the user as the error it is
            var files = ((object[])PsResult.Prop(demo, "Files")!).Select(PSObject.AsPSObject).ToList();
            Assert.Equal(6, files.Count); // assets.zip and invoice.txt for each of the three good rows
            Assert.All(files, f => Assert.Equal("NenAi.ResultFile", f.TypeNames[0]));
            Assert.Equal(3, files.Select(f => PsResult.Prop(f, "MessageId")).Distinct().Count());
            Assert.All(files, f => Assert.True(File.Exists((string)PsResult.Prop(f, "FullName")!)));
        }
    }

    /// <summary>Every PowerShell file of the repository parses in the real engine (build.ps1 cannot run here without pwsh).</summary>
    public class ScriptSyntaxTests
    {
        public static TheoryData<string> Scripts() => new(
            Directory.GetFiles(DocExamples.RepoRoot, "*.ps*1", SearchOption.AllDirectories)
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}out{Path.DirectorySeparatorChar}"))
                .Where(f => f.EndsWith(".ps1") || f.EndsWith(".psm1") || f.EndsWith(".psd1"))
                .Select(f => Path.GetRelativePath(DocExamples.RepoRoot, f)));

        [Theory]
        [MemberData(nameof(Scripts))]
        public void ScriptParses(string relativePath)
        {
            System.Management.Automation.Language.Parser.ParseFile(Path.Combine(DocExamples.RepoRoot, relativePath), out _, out var errors);

            Assert.Empty(errors.Select(e => $"{e.Extent.StartLineNumber}: {e.Message}"));
        }
    }
}
