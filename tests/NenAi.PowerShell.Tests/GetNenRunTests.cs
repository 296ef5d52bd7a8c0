using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text.Json;
using NenAi.Core.Journal;
using NenAi.Emulator;
using NenAi.PowerShell.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>Get-NenRun: the current status of runs (one GET each, bounded, streamed), and a journal's runs without a request.</summary>
    public class GetNenRunTests : HostedTest
    {
        /// <summary>Starts runs one at a time (so the emulator's peak concurrency is the lookup's) and returns them.</summary>
        private PSObject[] Start(string workflow, params string[] names) =>
            Run($"$rows | Start-NenRun -WorkflowId {workflow} -ThrottleLimit 1", ("rows", CsvRows.Parse("NAME\n" + string.Join("\n", names)))).AssertClean().Output.ToArray();

        private static string Id(PSObject run) => (string)PsResult.Prop(run, "MessageId")!;

        [Fact]
        public void EachRunIsLookedUpOnceAndWrittenWithItsCurrentStatusWithoutWaitingForIt()
        {
            PSObject slow = Start("$slowWf", "slow")[0];
            PSObject done = Run("$rows | Start-NenRun -WorkflowId $echo | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 30", ("rows", CsvRows.Parse("NAME\ndone")))
                .AssertClean().Output.Single();
            int getsBefore = State.GetRuns;

            PsResult r = Run("$slow, $done | Get-NenRun", ("slow", slow), ("done", done)).AssertClean();

            Assert.Equal(2, r.Output.Count);
            Assert.All(r.Output, s => Assert.Equal("NenAi.RunStatus", s.TypeNames[0]));
            Assert.All(r.Output, s => Assert.Equal(false, PsResult.Prop(s, "TimedOut")));
            PSObject running = r.Output.Single(s => Id(s) == Id(slow));
            Assert.Equal("processing", PsResult.Prop(running, "Status"));
            Assert.Equal(false, PsResult.Prop(running, "IsTerminal"));
            Assert.Equal("slow", PsResult.Prop(running, "InputObject.InputObject.NAME"));
            Assert.Equal("success", PsResult.Prop(r.Output.Single(s => Id(s) == Id(done)), "Status"));
            // One request each: a status already in hand is looked up again, never waited on.
            Assert.Equal(2, State.GetRuns - getsBefore);
            Assert.True(r.Elapsed < TimeSpan.FromSeconds(30));
        }

        [Fact]
        public void StringsRunsStatusesCsvRowsAndMessageIdsAllBindAndABadObjectIsOneErrorWhileTheOthersGoOn()
        {
            PSObject[] runs = Start("$echo", "a", "b", "c", "d");
            var row = CsvRows.Parse($"MessageId,Note\n{Id(runs[2])},saved earlier")[0];
            PSObject status = Run("$run | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 30", ("run", runs[3])).AssertClean().Output.Single();
            string unknown = Guid.NewGuid().ToString();

            PsResult piped = Run("$id, $run, $row, $status, [pscustomobject]@{ Name = 'not a run' }, $unknown | Get-NenRun",
                ("id", Id(runs[0])), ("run", runs[1]), ("row", row), ("status", status), ("unknown", unknown));
            PsResult byName = Run("Get-NenRun -MessageId $ids; Get-NenRun -Id $ids[0]; Get-NenRun $ids[1]", ("ids", runs.Select(Id).ToArray())).AssertClean();

            Assert.Equal(runs.Select(Id).OrderBy(i => i), piped.Strings("MessageId").OrderBy(i => i));
            Assert.Equal("saved earlier", PsResult.Prop(piped.Output.Single(s => Id(s) == Id(runs[2])), "InputObject.Note"));
            Assert.Equal(2, piped.Errors.Count);
            ErrorRecord notARun = piped.Errors.Single(e => e.FullyQualifiedErrorId.StartsWith("NenInvalidMessageId"));
            Assert.Equal("NenInvalidMessageId,NenAi.Commands.GetNenRunCommand", notARun.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidArgument, notARun.CategoryInfo.Category);
            Assert.Equal("not a run", PsResult.Prop(notARun.TargetObject, "Name"));
            ErrorRecord notFound = piped.Errors.Single(e => e.FullyQualifiedErrorId.StartsWith("NenRunNotFound"));
            Assert.Equal("NenRunNotFound,NenAi.Commands.GetNenRunCommand", notFound.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ObjectNotFound, notFound.CategoryInfo.Category);
            Assert.Equal(unknown, notFound.TargetObject is PSObject p ? p.BaseObject : notFound.TargetObject);
            Assert.Equal(6, byName.Output.Count);
        }

        [Fact]
        public void ThrottleLimitBoundsTheRequestsInFlightAndAnswersAreWrittenAsTheyArrive()
        {
            string[] ids = Start("$echo", Enumerable.Range(1, 12).Select(i => "row " + i).ToArray()).Select(Id).ToArray();
            State.Faults.Replace(new FaultSettings { LatencyMs = 300, ApplyTo = "get" });

            using RunningScript running = Ps.Start("$ids | Get-NenRun -ThrottleLimit 3", ("ids", ids));
            Assert.True(running.WaitForOutput(1, TimeSpan.FromSeconds(30)), "no answer came");
            int getsAtFirstAnswer = State.GetRuns;
            PsResult r = running.Wait(TimeSpan.FromSeconds(60)).AssertClean();

            Assert.Equal(ids.OrderBy(i => i), r.Strings("MessageId").OrderBy(i => i));
            Assert.True(getsAtFirstAnswer < ids.Length, $"the first answer came only after all {getsAtFirstAnswer} requests");
            Assert.InRange(State.MaxRequestsInFlight, 2, 3);
        }

        [Fact]
        public void WithoutThrottleLimitSixteenRequestsGoAtOnce()
        {
            string[] ids = Start("$echo", Enumerable.Range(1, 20).Select(i => "row " + i).ToArray()).Select(Id).ToArray();
            State.Faults.Replace(new FaultSettings { LatencyMs = 500, ApplyTo = "get" });

            Run("$ids | Get-NenRun", ("ids", ids)).AssertClean();

            Assert.InRange(State.MaxRequestsInFlight, 4, 16);
        }

        [Fact]
        public void AStoppedBatchResumesWithGetNenRunJournalPathWaitNenRunGetNenRunResult()
        {
            string journal = Path.Combine(TestDrive, "nightly.jsonl");
            string output = Path.Combine(TestDrive, "out");
            var rows = CsvRows.Numbered(40);
            // Six rows go through; then every run is recorded by the server but answered only after a minute, so the
            // stop finds requests on the wire (not a moment when all of them happen to have been answered).
            State.Faults.Script(new ScriptedFault { Kind = "latency", Route = "POST /runs", Count = 6 });
            State.Faults.Script(new ScriptedFault { Kind = "latency-after-accept", Route = "POST /runs", Count = 1000, LatencyMs = 60_000 });

            // The scheduled task: stopped part-way (Ctrl+C, or the task was ended).
            using (RunningScript batch = Ps.Start("$rows | Start-NenRun -WorkflowId $filesWf -KeyProperty Id -ExcludeProperty Id -ThrottleLimit 4 -JournalPath $journal",
                       ("rows", rows), ("journal", journal)))
            {
                Assert.True(batch.WaitForOutput(6, TimeSpan.FromSeconds(30)), "the batch never got going");
                Assert.True(Eventually.True(() => State.RequestsInFlight >= 4, TimeSpan.FromSeconds(30)), "no request was hanging");
                batch.Stop();
                Assert.True(batch.Wait(TimeSpan.FromSeconds(10)).Stopped);
            }
            Assert.True(Eventually.True(() => State.RequestsInFlight == 0, TimeSpan.FromSeconds(5)));
            State.Faults.Clear();
            var recorded = JournalFile.LastRecords(journal);
            var accepted = recorded.Values.Where(r => r.GetProperty("state").GetString() == "Accepted").Select(r => r.GetProperty("messageId").GetString()!).ToList();
            var unknown = recorded.Where(r => r.Value.GetProperty("state").GetString() is "Unknown" or "Submitting").Select(r => r.Key).ToList();
            var notStarted = recorded.Where(r => r.Value.GetProperty("state").GetString() == "Failed").Select(r => r.Key).ToList();
            Assert.True(recorded.Count < rows.Length, "the stop came too late to prove anything");
            int postsBefore = State.PostRuns;

            PsResult r = Run("Get-NenRun -JournalPath $journal | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60 | Get-NenRunResult -Destination $output",
                ("journal", journal), ("output", output));

            Assert.Null(r.Terminating);
            Assert.Equal(postsBefore, State.PostRuns); // resuming starts nothing
            // Every accepted run's three files (assets.zip, report.txt, data.bin) are saved.
            Assert.Equal(accepted.OrderBy(i => i), r.Strings("MessageId").Distinct().OrderBy(i => i));
            Assert.Equal(accepted.Count * 3, r.Output.Count);
            Assert.All(accepted, id => Assert.True(File.Exists(Path.Combine(output, id, "report.txt"))));
            // Every other row the journal knows is one error with its journal record as target: outcome unknown
            // (stopped mid-request), or provably not started (stopped before it was sent).
            Assert.Equal(unknown.Concat(notStarted).OrderBy(k => k), r.Errors.Select(e => ((JournalEntry)e.TargetObject).Key).OrderBy(k => k));
            Assert.NotEmpty(unknown);
            Assert.All(r.Errors.Where(e => unknown.Contains(((JournalEntry)e.TargetObject).Key)), e =>
            {
                Assert.Equal("NenPreviousOutcomeUnknown,NenAi.Commands.GetNenRunCommand", e.FullyQualifiedErrorId);
                Assert.Equal(ErrorCategory.InvalidResult, e.CategoryInfo.Category);
                Assert.Contains("-RetryUnknown", e.Exception.Message);
            });
            Assert.All(r.Errors.Where(e => notStarted.Contains(((JournalEntry)e.TargetObject).Key)), e =>
                Assert.Equal("NenRunNotStarted,NenAi.Commands.GetNenRunCommand", e.FullyQualifiedErrorId));
        }

        [Fact]
        public void AJournalLeftByAKilledBatchListsEachRowOnceAndSaysWhyRowsHaveNoRun()
        {
            string messageId = Id(Start("$echo", "accepted")[0]);
            string journal = Path.Combine(TestDrive, "killed.jsonl");
            string Record(string key, string state, string extra = "") =>
                $"{{\"key\":\"{key}\",\"state\":\"{state}\",\"workflowId\":\"{TestEmulator.EchoWorkflow}\",\"idempotencyKey\":\"nenai-{key.Substring(4)}\"{extra},\"at\":\"2025-01-02T03:04:05.0000000+00:00\"}}";
            File.WriteAllText(journal, string.Join("\n",
                "{\"batchId\":\"8d1e\",\"startedAt\":\"2025-01-02T03:00:00Z\"}",
                Record("col:1", "Submitting"),
                Record("col:2", "Submitting"),
                Record("col:3", "Submitting"),
                Record("col:1", "Accepted", $",\"messageId\":\"{messageId}\""),
                Record("col:3", "Failed", ",\"errorId\":\"NenServiceUnavailable\""),
                Record("col:4", "Submitting"),
                Record("col:4", "Unknown", ",\"errorId\":\"NenTimeout\""),
                "{\"key\":\"col:5\",\"sta"));   // the process died mid-line
            int requestsBefore = State.PostRuns + State.GetRuns;

            PsResult r = Run("Get-NenRun -JournalPath $journal -SummaryVariable listed; $listed.Outcomes.Listed; $listed.Outcomes.WithoutRun", ("journal", journal));

            Assert.Null(r.Terminating);
            Assert.Equal(new object[] { 1, 3 }, r.BaseOutput.Skip(1).ToArray());   // the summary counts what was listed and what has no run
            PSObject run = r.Output[0];
            Assert.Equal("NenAi.Run", run.TypeNames[0]);
            Assert.Equal(messageId, PsResult.Prop(run, "MessageId"));
            Assert.Equal("Accepted", PsResult.Prop(run, "Status"));
            Assert.Equal(TestEmulator.EchoWorkflow, PsResult.Prop(run, "WorkflowId"));
            Assert.Equal("1", PsResult.Prop(run, "RowKey"));   // the -KeyProperty value, as Start-NenRun wrote it
            Assert.Equal("nenai-1", PsResult.Prop(run, "IdempotencyKey"));
            Assert.Equal(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero), PsResult.Prop(run, "SubmittedAt"));
            Assert.Equal(new[] { "col:2", "col:3", "col:4" }, r.Errors.Select(e => ((JournalEntry)e.TargetObject).Key));
            Assert.Equal("NenPreviousOutcomeUnknown,NenAi.Commands.GetNenRunCommand", r.Errors[0].FullyQualifiedErrorId);
            Assert.Contains("killed", r.Errors[0].Exception.Message);
            Assert.Equal("NenRunNotStarted,NenAi.Commands.GetNenRunCommand", r.Errors[1].FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ObjectNotFound, r.Errors[1].CategoryInfo.Category);
            Assert.Equal("NenPreviousOutcomeUnknown,NenAi.Commands.GetNenRunCommand", r.Errors[2].FullyQualifiedErrorId);
            Assert.Contains("NenTimeout", r.Errors[2].Exception.Message);
            Assert.Contains("1 unreadable line", Assert.Single(r.Warning).Message);
            Assert.Equal(requestsBefore, State.PostRuns + State.GetRuns);
        }

        [Fact]
        public void AMissingJournalIsOneTerminatingError()
        {
            string journal = Path.Combine(TestDrive, "no-such.jsonl");

            PsResult r = Run("Get-NenRun -JournalPath $journal; 'not reached'", ("journal", journal));

            Assert.Equal("NenJournalNotFound,NenAi.Commands.GetNenRunCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ObjectNotFound, r.Terminating!.CategoryInfo.Category);
            Assert.Equal(journal, r.Terminating.TargetObject);
            Assert.Empty(r.Output);
        }
    }

    /// <summary>Listing a journal needs neither its lock nor any configuration (no NEN_* variable, no key).</summary>
    [Collection(ProcessEnvironment.Name)]
    public class GetNenRunJournalWithoutConfigurationTests : HostedTest
    {
        protected override bool SessionDefaults => false;

        [Fact]
        public void AJournalHeldByARunningBatchIsListedWithoutAKeyOrAnyRequest()
        {
            using IDisposable env = ProcessEnvironment.Scope();
            string journal = Path.Combine(TestDrive, "busy.jsonl");
            File.WriteAllText(journal, "{\"key\":\"col:1\",\"state\":\"Accepted\",\"workflowId\":\"w\",\"messageId\":\"m-1\",\"at\":\"2025-01-02T03:04:05Z\"}\n");
            // What a running Start-NenRun holds: the exclusive lock file, and the journal open for writing.
            using FileStream held = File.Open(journal + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            using FileStream writing = new FileStream(journal, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);

            PsResult r = Run("Get-NenRun -JournalPath $journal", ("journal", journal)).AssertClean();

            Assert.Equal("m-1", PsResult.Prop(Assert.Single(r.Output), "MessageId"));
            Assert.Equal(0, State.PostRuns + State.GetRuns);
        }
    }
}
