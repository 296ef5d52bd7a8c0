using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using NenAi.Emulator;
using NenAi.PowerShell.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace NenAi.PowerShell.Tests
{
    /// <summary>A batch never lies (issue 10), proven through the cmdlets.</summary>
    public class BatchResilienceTests : HostedTest
    {
        private const int Forever = 100_000;
        private readonly ITestOutputHelper _output;

        public BatchResilienceTests(ITestOutputHelper output) => _output = output;

        private const string Nightly = "$rows | Start-NenRun -WorkflowId $echo -KeyProperty Id -ExcludeProperty Id -JournalPath $journal";

        [Fact]
        public void TheNightlyRecipeRunTwiceWithANewJournalEachNightStartsNewRuns()
        {
            var rows = CsvRows.Numbered(3);
            PsResult monday = Run(Nightly, ("rows", rows), ("journal", Path.Combine(TestDrive, "journal-monday.jsonl"))).AssertClean();
            PsResult tuesday = Run(Nightly, ("rows", rows), ("journal", Path.Combine(TestDrive, "journal-tuesday.jsonl"))).AssertClean();

            Assert.Equal(6, State.Ledger.Count);
            Assert.Empty(monday.Strings("MessageId").Intersect(tuesday.Strings("MessageId")));
            Assert.All(tuesday.Output, r => Assert.Equal("Accepted", PsResult.Prop(r, "Status")));
        }

        [Fact]
        public void TheSameRowsWithoutAJournalAreANewBatchEachTime()
        {
            var rows = CsvRows.Numbered(3);
            Run("$rows | Start-NenRun -WorkflowId $echo -KeyProperty Id -ExcludeProperty Id", ("rows", rows)).AssertClean();
            PsResult again = Run("$rows | Start-NenRun -WorkflowId $echo -KeyProperty Id -ExcludeProperty Id", ("rows", rows)).AssertClean();

            Assert.Equal(6, State.Ledger.Count);
            Assert.Equal(3, again.Output.Count);
        }

        [Fact]
        public void AReRunWithTheSameJournalReusesItsKeys()
        {
            string journal = Path.Combine(TestDrive, "j.jsonl");
            // Every POST is accepted, then answered 500: the outcome is unknown for each row.
            State.Faults.Replace(new FaultSettings { Rate500AfterAccept = 1, ApplyTo = "post" });
            PsResult first = Run(Nightly, ("rows", CsvRows.Numbered(3)), ("journal", journal));
            Assert.Equal(3, first.Errors.Count(e => e.FullyQualifiedErrorId.StartsWith("NenOutcomeUnknown,")));
            State.Faults.Replace(new FaultSettings());

            PsResult retried = Run(Nightly + " -RetryUnknown", ("rows", CsvRows.Numbered(3)), ("journal", journal)).AssertClean();

            Assert.Equal(3, State.Ledger.Count); // the server recognised each key and answered with the original run
            Assert.Equal(State.Ledger.Select(e => e.MessageId).OrderBy(i => i), retried.Strings("MessageId").OrderBy(i => i));
        }

        [Fact]
        public void AStormOfRefusalsCostsAtMost40PostsEndsWithOneErrorAndTheReRunStartsEachOnce()
        {
            string journal = Path.Combine(TestDrive, "storm.jsonl");
            var rows = CsvRows.Numbered(200);
            State.Faults.Script(new ScriptedFault { Kind = "429", Route = "POST /runs", Count = Forever, RetryAfterSeconds = 300 });
            var clock = Stopwatch.StartNew();

            PsResult storm = Run(Nightly + " -ThrottleLimit 16", ("rows", rows), ("journal", journal));

            clock.Stop();
            int posts = State.PostRuns;
            _output.WriteLine($"storm through Start-NenRun: {posts} POSTs for 200 rows in {clock.Elapsed.TotalSeconds:0.00} s; {storm.AllErrors.Count()} error record(s)");
            Assert.InRange(posts, 1, 40);
            Assert.Empty(storm.Output);
            // The service refuses everyone: one error for the batch (issue 17), never one per row.
            ErrorRecord stop = Assert.Single(storm.AllErrors);
            Assert.Null(storm.Terminating); // written after every run, so they stay in the pipeline (issue 25)
            Assert.Equal("NenRateLimited,NenAi.Commands.StartNenRunCommand", stop.FullyQualifiedErrorId);
            Assert.Contains("not sent", stop.Exception.Message);
            Assert.Contains("Run the same command again", stop.Exception.Message);

            State.Faults.Clear();
            PsResult rerun = Run(Nightly, ("rows", rows), ("journal", journal)).AssertClean();
            Assert.Equal(200, rerun.Output.Count);
            Assert.Equal(200, State.Ledger.Count);
            Assert.Equal(200, State.Ledger.Select(e => (string)e.Params["NAME"]!).Distinct().Count());
        }

        [Fact]
        public void AFailedTlsHandshakeIsNotAnUnknownOutcomeAndTheJournalLetsTheReRunSendIt()
        {
            using var broken = FaultyEndpoint.BrokenTls();
            string journal = Path.Combine(TestDrive, "tls.jsonl");

            PsResult r = Run(Nightly + " -BaseUri $broken -MaximumRetryCount 0", ("rows", CsvRows.Numbered(2)), ("journal", journal), ("broken", broken.Uri.ToString()));

            // The server cannot be reached by anyone (no retries left: -MaximumRetryCount 0): one error ends the batch,
            // saying why; nothing was sent, so no row is "outcome unknown" and the re-run sends every row.
            ErrorRecord stop = Assert.Single(r.AllErrors);
            Assert.Same(r.BatchStop, stop);
            Assert.Equal("NenNetworkError,NenAi.Commands.StartNenRunCommand", stop.FullyQualifiedErrorId);
            Assert.Contains("TLS", stop.Exception.Message);
            Assert.Contains("2 not sent", stop.Exception.Message);
            Assert.DoesNotContain(JournalFile.LastStates(journal).Values, state => state is "Submitting" or "Unknown" or "Accepted");
        }

        [Fact]
        public void ARunsSubmittingLineIsInTheJournalBeforeTheServerSeesTheRequest()
        {
            State.Faults.Replace(new FaultSettings { LatencyMs = 60_000, ApplyTo = "post" });
            string journal = Path.Combine(TestDrive, "durable.jsonl");

            using RunningScript running = Ps.Start(Nightly, ("rows", CsvRows.Numbered(1)), ("journal", journal));
            Assert.True(Eventually.True(() => State.RequestsInFlight > 0, TimeSpan.FromSeconds(30)), "the request never arrived");
            string text;
            using (var reader = new StreamReader(new FileStream(journal, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))) text = reader.ReadToEnd();
            running.Stop();

            Assert.Contains("\"state\":\"Submitting\"", text);
        }

        [Fact]
        public void AnUnreadableRetryAfterIsATypedErrorNotAnEndlessRetry()
        {
            State.Faults.Script(new ScriptedFault { Kind = "429", Route = "POST /runs", Count = Forever, RetryAfterText = "1e20" });

            PsResult r = Run("$rows | Start-NenRun -WorkflowId $echo", ("rows", CsvRows.Numbered(1)));

            // A wait beyond the retry budget stops the batch: one terminating error (issue 17).
            Assert.Equal("NenRateLimited,NenAi.Commands.StartNenRunCommand", Assert.Single(r.AllErrors).FullyQualifiedErrorId);
            Assert.True(r.Elapsed < TimeSpan.FromSeconds(10));
        }

        [Fact]
        public void AStatusThatCannotBeReadIsATypedErrorNotAnEndlessWait()
        {
            string id = Run("$rows | Start-NenRun -WorkflowId $slowWf", ("rows", CsvRows.Numbered(1))).AssertClean().Strings("MessageId").Single()!;
            // First an expiry that cannot be a date (read as no expiry: the run is still processing), then no JSON at all.
            State.Faults.Script(new ScriptedFault { Kind = "raw", Route = "GET /runs", Count = 2, StatusCode = 200, Body = "{\"status\":\"processing\",\"expires_at\":9223372036854775807}" });
            State.Faults.Script(new ScriptedFault { Kind = "raw", Route = "GET /runs", Count = Forever, StatusCode = 200, Body = "no json here" });

            PsResult r = Run("$id | Wait-NenRun -PollIntervalSec 0.1", ("id", id));

            ErrorRecord error = Assert.Single(r.Errors);
            Assert.Equal("NenUnexpectedResponse,NenAi.Commands.WaitNenRunCommand", error.FullyQualifiedErrorId);
            Assert.True(r.Elapsed < TimeSpan.FromSeconds(10));
        }

        [Fact]
        public void RunsThatJoinTheWaitLateGetTheirFullTimeout()
        {
            PSObject[] runs = Run("$rows | Start-NenRun -WorkflowId $slowWf", ("rows", CsvRows.Numbered(2))).AssertClean().Output.ToArray();

            // The second run reaches Wait-NenRun 1.5 s after the first, as rows do from a slow upstream command.
            PsResult r = Run("$runs | ForEach-Object -Begin { $n = 0 } -Process { if ($n++) { [System.Threading.Thread]::Sleep(1500) }; $_ } | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 2", ("runs", runs));

            Assert.Equal(2, r.Errors.Count(e => e.FullyQualifiedErrorId == "NenWaitTimeout,NenAi.Commands.WaitNenRunCommand"));
            Assert.True(r.Elapsed >= TimeSpan.FromSeconds(3.4), $"the late run was given up after {r.Elapsed.TotalSeconds:0.0} s in all");
            Assert.Equal(2, r.Output.Count(o => Equals(PsResult.Prop(o, "TimedOut"), true)));
        }

        [Fact]
        public void WithoutATimeoutEndlessErrorsEndWithAClearErrorAfterABoundedBudget()
        {
            string id = Run("$rows | Start-NenRun -WorkflowId $slowWf", ("rows", CsvRows.Numbered(1))).AssertClean().Strings("MessageId").Single()!;
            State.Faults.Script(new ScriptedFault { Kind = "500", Route = "GET /runs", Count = Forever });

            PsResult r = Run("$id | Wait-NenRun -PollIntervalSec 0.1 -MaximumRetryCount 1", ("id", id));

            ErrorRecord error = Assert.Single(r.Errors);
            Assert.Equal("NenStatusUnavailable,NenAi.Commands.WaitNenRunCommand", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ResourceUnavailable, error.CategoryInfo.Category);
            Assert.True(r.Elapsed < TimeSpan.FromSeconds(30));
        }

        [Fact]
        public void AStalledDownloadEndsInAnErrorWithinTheTimeoutAndLooksIncomplete()
        {
            PSObject status = Run("$rows | Start-NenRun -WorkflowId $filesWf | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 30", ("rows", CsvRows.Numbered(1))).AssertClean().Output.Single();
            State.Faults.Script(new ScriptedFault { Kind = "stall-download", Route = "GET /files", Count = Forever });

            PsResult r = Run("$status | Get-NenRunResult -Destination $TestDrive -RequestTimeoutSec 3 -MaximumRetryCount 0", ("status", status));

            _output.WriteLine($"stalled download: {r.AllErrors.Count()} error(s) after {r.Elapsed.TotalSeconds:0.0} s");
            // Each of the three files stalls: storage that stalls for every file is one error for them all (issue 25; it
            // was one per file), after two request timeouts: the files' own, and a probe's sent after they had stalled.
            ErrorRecord stop = Assert.Single(r.AllErrors);
            Assert.Same(r.Terminating, stop);
            Assert.Equal("NenTimeout,NenAi.Commands.GetNenRunResultCommand", stop.FullyQualifiedErrorId);
            Assert.Contains("3 not downloaded", stop.Exception.Message);
            Assert.True(r.Elapsed < TimeSpan.FromSeconds(3 * 3 + 6), $"took {r.Elapsed.TotalSeconds:0.0} s");
            Assert.Empty(r.Output);
            Assert.Empty(Directory.GetFiles(Path.Combine(TestDrive, (string)PsResult.Prop(status, "MessageId")!)).Where(f => !f.EndsWith(".partial") && !f.EndsWith(".etag")));
        }

        [Fact]
        public void DownloadsFollowARedirectAndResumeAnInterruptedFile()
        {
            PSObject status = Run("$rows | Start-NenRun -WorkflowId $filesWf | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 30", ("rows", CsvRows.Numbered(1))).AssertClean().Output.Single();
            State.Faults.Script(new ScriptedFault { Kind = "redirect-download", Route = "GET /files", Count = 1 });
            State.Faults.Script(new ScriptedFault { Kind = "truncate-download", Route = "GET /files", Count = 1 });

            // One download at a time: the scripted faults meet the next requests, so the first file (assets.zip, large enough
            // to have a part to resume) is the one redirected and then cut off.
            PsResult r = Run("$status | Get-NenRunResult -Destination $TestDrive -ThrottleLimit 1", ("status", status)).AssertClean();

            Assert.Equal(3, r.Output.Count);
            Assert.Contains(State.DownloadRequests, d => d.IfRange.StartsWith("\""));
            Assert.All(State.DownloadRequests, d => Assert.False(d.HasApiKey));
        }
    }

    /// <summary>A journal on a full disk, for real: the module runs in a child engine whose files may not grow beyond a limit.</summary>
    [Collection(ProcessEnvironment.Name)]
    public class JournalOnAFullDiskTests : HostedTest
    {
        private readonly ITestOutputHelper _output;

        public JournalOnAFullDiskTests(ITestOutputHelper output) => _output = output;

        [LinuxFact("the disk is made full with ulimit -f")]
        public void AJournalThatCannotBeWrittenEndsTheBatchWithOneClearErrorAndNothingIsLost() => FillTheJournalsDisk(string.Empty);

        [LinuxFact("the disk is made full with ulimit -f")]
        public void WithErrorActionStopTooTheJournalsErrorIsTheOneThatEndsTheBatch() => FillTheJournalsDisk(" -ErrorAction Stop");
        // (Found in review: the first row not sent stopped the command with its own error, so the list of started
        // rows missing from the journal was never shown.)

        private void FillTheJournalsDisk(string errorAction)
        {
            string journal = Path.Combine(TestDrive, "full.jsonl");
            string script = $@"
                $rows = 1..300 | ForEach-Object {{ [pscustomobject]@{{ Id = ""$_""; NAME = ""row $_"" }} }}
                $rows | Start-NenRun -WorkflowId '{TestEmulator.EchoWorkflow}' -KeyProperty Id -ExcludeProperty Id -JournalPath '{journal}' -ThrottleLimit 8{errorAction}";
            var environment = new Dictionary<string, string> { ["NEN_BASE_URL"] = Emulator.BaseUri.ToString(), ["NEN_API_KEY"] = TestEmulator.ApiKey, ["NEN_SIGNING_KEY"] = TestEmulator.SigningKey };

            var lines = ChildEngine.Run(script, environment, fileSizeLimitKiB: 24, TimeSpan.FromMinutes(2));

            var errors = lines.Where(l => l.Kind == "error").ToList();
            var runs = lines.Where(l => l.Kind == "output").ToList();
            // Non-terminating and last, after every run (issue 25); with -ErrorAction Stop it ends the command.
            ChildLine stop = errorAction.Length == 0 ? errors[^1] : Assert.Single(errors, e => e.Terminating);
            Assert.Equal(errorAction.Length > 0, stop.Terminating);
            _output.WriteLine($"journal on a full disk: {runs.Count} runs written, {errors.Count} errors; {stop.Text}");
            Assert.Equal("NenJournalWriteFailed,NenAi.Commands.StartNenRunCommand", stop.Id);
            Assert.Equal("WriteError", stop.Type);
            Assert.Contains("accepted", stop.Text);
            Assert.Contains("not sent", stop.Text);
            Assert.InRange(runs.Count, 1, 299);
            // Every run the server started was written to the pipeline, once.
            Assert.Equal(State.Ledger.Select(e => e.MessageId).OrderBy(i => i), runs.Select(r => r.MessageId).OrderBy(i => i));

            // The disk has room again. The rows the error named as started-but-not-journaled are "unknown" to the journal;
            // resent with their batch's keys (-RetryUnknown), the server answers with the original runs: each row once.
            var rows = Enumerable.Range(1, 300).Select(i => CsvRows.Row(("Id", i.ToString()), ("NAME", "row " + i))).ToArray();
            Run("$rows | Start-NenRun -WorkflowId $echo -KeyProperty Id -ExcludeProperty Id -JournalPath $journal -RetryUnknown", ("rows", rows), ("journal", journal)).AssertClean();
            Assert.Equal(300, State.Ledger.Count);
            Assert.Equal(300, State.Ledger.Select(e => (string)e.Params["NAME"]!).Distinct().Count());
        }
    }
}
