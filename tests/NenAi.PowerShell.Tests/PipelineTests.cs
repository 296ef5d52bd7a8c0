using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using NenAi.Emulator;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>The headline pipeline, Import-Csv | Start-NenRun | Wait-NenRun | Get-NenRunResult, for 1 and 2,000 rows.</summary>
    public class PipelineTests : HostedTest
    {
        /// <summary>workflow_params.NAME of each accepted run, by message id, as the emulator received them.</summary>
        private Dictionary<string, string> LedgerNames() =>
            State.Ledger.ToDictionary(e => e.MessageId, e => (string)e.Params["NAME"]!, StringComparer.OrdinalIgnoreCase);

        [Fact]
        public void OneRowStartsOneRunThatCarriesItsRow()
        {
            PsResult r = Run("$rows | Start-NenRun -WorkflowId $echo", ("rows", CsvRows.Parse("NAME,COUNT\nAda,1"))).AssertClean();

            PSObject run = Assert.Single(r.Output);
            Assert.Equal("NenAi.Run", run.TypeNames[0]);
            Assert.Equal("Accepted", PsResult.Prop(run, "Status"));
            Assert.Equal(State.Ledger.Single().MessageId, PsResult.Prop(run, "MessageId"));
            Assert.Equal("Ada", PsResult.Prop(run, "InputObject.NAME"));
            Assert.Equal(1, State.PostRuns);
        }

        [Fact]
        public void OneRowGoesAllTheWayToItsFilesOnDisk()
        {
            PsResult r = Run("$rows | Start-NenRun -WorkflowId $filesWf | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60 | Get-NenRunResult -Destination $TestDrive",
                ("rows", CsvRows.Parse("NAME\nAda"))).AssertClean();

            string messageId = State.Ledger.Single().MessageId;
            Assert.Equal(new[] { "assets.zip", "data.bin", "report.txt" }, r.Strings("Name").OrderBy(n => n));
            foreach (PSObject file in r.Output)
            {
                Assert.Equal("NenAi.ResultFile", file.TypeNames[0]);
                Assert.Equal(messageId, PsResult.Prop(file, "MessageId"));
                string fullName = (string)PsResult.Prop(file, "FullName")!;
                Assert.Equal(Path.Combine(TestDrive, messageId, (string)PsResult.Prop(file, "Name")!), fullName);
                Assert.True((long)PsResult.Prop(file, "Length")! > 0);
                Assert.Equal(new FileInfo(fullName).Length, PsResult.Prop(file, "Length"));
            }
            Assert.Contains("report for " + messageId, File.ReadAllText(Path.Combine(TestDrive, messageId, "report.txt")));
        }

        [Fact]
        public void TwoThousandRowsStartOneRunEachAndEachRunCarriesItsRow()
        {
            PsResult r = Run("$rows | Start-NenRun -WorkflowId $echo -ExcludeProperty Id -ThrottleLimit 16", ("rows", CsvRows.Numbered(2000))).AssertClean();

            Assert.Equal(2000, r.Output.Count);
            Assert.Equal(2000, State.Ledger.Count);
            Assert.Equal(2000, State.PostRuns);
            Dictionary<string, string> names = LedgerNames();
            Assert.Equal(Enumerable.Range(1, 2000).Select(i => "row " + i).OrderBy(n => n), names.Values.OrderBy(n => n));
            foreach (PSObject run in r.Output)
                Assert.Equal(names[(string)PsResult.Prop(run, "MessageId")!], PsResult.Prop(run, "InputObject.NAME"));
        }

        [Fact]
        public void TwoThousandRowsAreEachWaitedForOnceAndTheirFilesSaved()
        {
            PsResult r = Run(@"
                $script:statuses = [System.Collections.Generic.List[object]]::new()
                $rows | Start-NenRun -WorkflowId $echo -ExcludeProperty Id -ThrottleLimit 16 |
                    Wait-NenRun -PollIntervalSec 0.2 -TimeoutSec 300 |
                    ForEach-Object { $script:statuses.Add($_); $_ } |
                    Get-NenRunResult -Destination $TestDrive",
                ("rows", CsvRows.Numbered(2000))).AssertClean();

            var statuses = ((System.Collections.IEnumerable)Ps.Get("statuses")!).Cast<object>().ToList();
            Assert.Equal(2000, statuses.Count);
            Assert.Equal(2000, statuses.Select(s => PsResult.Prop(s, "MessageId")).Distinct().Count());
            Assert.All(statuses, s => Assert.Equal("success", PsResult.Prop(s, "Status")));
            Dictionary<string, string> names = LedgerNames();
            Assert.All(statuses, s => Assert.Equal(names[(string)PsResult.Prop(s, "MessageId")!], PsResult.Prop(s, "InputObject.InputObject.NAME")));

            // One assets.zip per run, each in its run's folder.
            Assert.Equal(2000, r.Output.Count);
            Assert.Equal(names.Keys.OrderBy(k => k), r.Strings("MessageId").OrderBy(k => k));
            Assert.All(r.Output, f => Assert.True(File.Exists(Path.Combine(TestDrive, (string)PsResult.Prop(f, "MessageId")!, "assets.zip"))));
        }

        [Fact]
        public async Task TheIssuesSamplePipelinesRunAgainstTheDemoWorkflow()
        {
            // The demo configuration the emulator ships (emulator.sample.json) and the issue's exact commands.
            await using var demo = await NenAi.TestSupport.TestEmulator.StartAsync(c => Demo(c));
            using var ps = new PsSession();
            ps.Set("base", demo.BaseUri.ToString());
            ps.Set("key", PsSession.Secure("nen-demo-api-key"));
            ps.Set("signing", PsSession.Secure("nen-demo-signing-key"));
            ps.Run("$PSDefaultParameterValues['*-Nen*:BaseUri'] = $base; $PSDefaultParameterValues['*-Nen*:ApiKey'] = $key; $PSDefaultParameterValues['*-Nen*:SigningKey'] = $signing").AssertClean();

            PsResult started = ps.Run("[pscustomobject]@{ CUSTOMER_NAME = 'Ada' } | Start-NenRun -WorkflowId 0f6a1f7e-9a55-4c55-8d7e-3b1b2a6f4c21").AssertClean();
            string messageId = (string)PsResult.Prop(Assert.Single(started.Output), "MessageId")!;
            PsResult waited = ps.Run("[pscustomobject]@{ MessageId = $id } | Wait-NenRun -PollIntervalSec 1", ("id", messageId)).AssertClean();
            Assert.Equal("success", PsResult.Prop(Assert.Single(waited.Output), "Status"));
        }

        /// <summary>Replaces the test workflows with the demo configuration the emulator ships.</summary>
        internal static void Demo(EmulatorConfig config)
        {
            EmulatorConfig demo = EmulatorConfig.CreateDemo();
            config.ApiKeys.Clear();
            config.ApiKeys.AddRange(demo.ApiKeys);
            config.Workflows.Clear();
            config.Workflows.AddRange(demo.Workflows);
            config.WebhookSecret = demo.WebhookSecret;
            foreach (WorkflowConfig w in config.Workflows) { w.QueuedMs = 0; w.DurationMs = 100; w.DurationJitterMs = 0; }
        }
    }
}
