using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using NenAi.TestSupport;
using NenAi.Emulator;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// Batches through Start-NenRun with a journal under the failures users meet, each followed by the same command
    /// again: a night of 429/503, 500-after-accept and resets with a storm that outlasts the retry budget; an outage
    /// (every POST 500 for a stretch); a key revoked mid-batch; -ErrorAction Stop; a downstream stop; and, through the
    /// whole pipeline (Start-NenRun | Wait-NenRun | Get-NenRunResult), a status outage and storage that stalls. Judged
    /// by the emulator's own ledger, with its Idempotency-Key support switched off (the real service may not have it):
    /// every row started exactly once or reported, none twice, none lost (for the pipeline: every row's file on disk).
    /// </summary>
    public class FaultMatrixTests : HostedTest
    {
        private readonly ITestOutputHelper _output;

        public FaultMatrixTests(ITestOutputHelper output) => _output = output;

        /// <summary>The faults of a night; the first also has a storm that outlasts the retry budget.</summary>
        private static FaultSettings Faults(int seed, bool storm) => new FaultSettings
        {
            Rate429 = 0.05, Rate503 = 0.05, Rate500AfterAccept = 0.05, RateReset = 0.025, RateResetAfterAccept = 0.025,
            RetryAfterSeconds = 0, ApplyTo = "post", Seed = seed,
            StormAfter = storm ? 600 : 0, StormLength = 60, StormRetryAfterSeconds = 0,
        };

        protected override void Configure(EmulatorConfig config) => config.HonourIdempotencyKey = false;

        private const string Batch = "$rows | Start-NenRun -WorkflowId $echo -KeyProperty Id -ExcludeProperty Id -JournalPath $journal -ThrottleLimit 16 -NoProgress";

        private string Journal => Path.Combine(TestDrive, "matrix.jsonl");

        [Fact]
        public void ANightOfFaultsWithAStormThenTheSameCommandAgain()
        {
            var rows = CsvRows.Numbered(1000);
            State.Faults.Replace(Faults(20261123, storm: true));
            // The budget is a time since issue 25 (a storm of 60 refusals with no Retry-After outlasted 5 pauses before): 5 s.
            PsResult first = Run(Batch + " -RetryBudgetSec 5", ("rows", rows), ("journal", Journal));
            // The storm outlasted the retry budget: the batch stopped with one error, not one per row.
            Assert.Equal("NenRateLimited,NenAi.Commands.StartNenRunCommand", first.BatchStop?.FullyQualifiedErrorId);
            Assert.True(Outcomes(first).Values.Count(v => v == "NenOutcomeUnknown") > 0, "the faults must bite");

            State.Faults.Replace(Faults(20261124, storm: false));
            var runs = new List<PsResult> { first, Run(Batch, ("rows", rows), ("journal", Journal)) };
            // A fault-ridden re-run may itself meet five ambiguous failures in a row; then the service is healthy again.
            State.Faults.Replace(new FaultSettings());
            if (runs[^1].BatchStop != null) runs.Add(Run(Batch, ("rows", rows), ("journal", Journal)));

            Account("night", rows.Length, runs);
        }

        [Fact]
        public void AnOutageStopsTheBatchWithinAFewRequestsAndTheReRunStartsEveryRowOnce()
        {
            var rows = CsvRows.Numbered(300);
            // 100 requests go through, then every POST is a 500 (nothing accepted) for a stretch.
            State.Faults.Replace(new FaultSettings { ApplyTo = "post", StormAfter = 100, StormLength = 1000, StormKind = "500" });
            PsResult outage = Run(Batch, ("rows", rows), ("journal", Journal));
            int posts = State.PostRuns;

            Assert.Equal("NenServerError,NenAi.Commands.StartNenRunCommand", outage.BatchStop?.FullyQualifiedErrorId);
            Assert.Null(outage.Terminating); // written after every run (issue 25)
            Assert.Equal(100, State.Ledger.Count);
            // The requests on the wire when the outage began (-ThrottleLimit 16), then at most a probe at a time until five
            // failures in a row (answers to requests sent before it began reset the count, but admit nothing new).
            Assert.InRange(posts - 100, 5, 16 + NenAi.Core.Http.BatchCircuit.DefaultFailureLimit);
            Assert.All(outage.Errors.Where(e => e != outage.BatchStop), e => Assert.StartsWith("NenOutcomeUnknown,", e.FullyQualifiedErrorId));
            Assert.InRange(outage.Errors.Count - 1, 5, 17); // only the rows in flight are unknown

            State.Faults.Replace(new FaultSettings());
            PsResult rerun = Run(Batch + " -RetryUnknown", ("rows", rows), ("journal", Journal));
            Account("outage", rows.Length, new List<PsResult> { outage, rerun }, $"posts during the outage={posts - 100}");
            Assert.Equal(rows.Length, State.Ledger.Count); // the 500s accepted nothing: every row started once
        }

        [Fact]
        public void AKeyRevokedMidBatchStopsItWithOneErrorAndTheReRunFinishesIt()
        {
            var rows = CsvRows.Numbered(400);
            State.Faults.Replace(new FaultSettings { LatencyMs = 5, ApplyTo = "post" });
            PsResult revoked;
            using (RunningScript running = Ps.Start(Batch, ("rows", rows), ("journal", Journal)))
            {
                Assert.True(running.WaitForOutput(100, TimeSpan.FromSeconds(60)), "the batch never got going");
                State.RevokeKey("signed");
                revoked = running.Wait(TimeSpan.FromMinutes(2));
            }
            int posts = State.PostRuns, started = State.Ledger.Count;

            ErrorRecord stop = Assert.Single(revoked.AllErrors);
            Assert.Null(revoked.Terminating); // written after every run (issue 25)
            Assert.Equal("NenUnauthorized,NenAi.Commands.StartNenRunCommand", stop.FullyQualifiedErrorId);
            Assert.Contains("API key", stop.Exception.Message);
            Assert.Contains("not sent", stop.Exception.Message);
            Assert.InRange(posts - started, 1, 16); // refused: at most the requests already on the wire

            State.RestoreKey("signed");
            State.Faults.Replace(new FaultSettings());
            PsResult rerun = Run(Batch, ("rows", rows), ("journal", Journal));
            Account("revoked key", rows.Length, new List<PsResult> { revoked, rerun }, $"refused posts={posts - started}");
            Assert.DoesNotContain(Outcomes(rerun).Values, v => v == "NenPreviousOutcomeUnknown");
        }

        [Fact]
        public void ErrorActionStopStopsSendingAndTheReRunSendsTheRest()
        {
            var rows = CsvRows.Numbered(300);
            rows[1].Properties["COUNT"].Value = "not a number"; // row 2: refused by the service (422)
            State.Faults.Replace(new FaultSettings { LatencyMs = 50, ApplyTo = "post" });
            PsResult stopped = Run(Batch + " -ErrorAction Stop", ("rows", rows), ("journal", Journal));
            int accepted = State.Ledger.Count;

            Assert.Equal("NenInvalidWorkflowParams,NenAi.Commands.StartNenRunCommand", stopped.Terminating?.FullyQualifiedErrorId);
            Assert.InRange(accepted, 1, 16); // the rows on the wire with row 2, no more
            Assert.Equal(accepted, stopped.Output.Count); // each written before the error

            State.Faults.Replace(new FaultSettings());
            PsResult rerun = Run(Batch, ("rows", rows), ("journal", Journal));
            Account("-ErrorAction Stop", rows.Length, new List<PsResult> { stopped, rerun }, $"accepted before the stop={accepted}");
            Assert.Equal("NenInvalidWorkflowParams", Outcomes(rerun)["2"]);
            Assert.Equal(rows.Length - 1, State.Ledger.Count);
        }

        [Fact]
        public void ADownstreamStopIsANormalEndAndTheReRunFinishesTheBatchWithNoUnknownRow()
        {
            var rows = CsvRows.Numbered(200);
            State.Faults.Replace(new FaultSettings { LatencyMs = 300, ApplyTo = "post" });
            Run(SelectObjectStandIn.ImportScript).AssertClean();
            PsResult first = Run(Batch + " | Select-Object -First 1", ("rows", rows), ("journal", Journal));
            int started = State.Ledger.Count, posts = State.PostRuns;

            first.AssertClean();
            Assert.Single(first.Output);
            // No row was sent after the stop: at most the requests on the wire and the rows that took their places.
            Assert.InRange(posts, 1, 2 * 16);
            Assert.Equal(posts, started); // every row sent finished and started its run: none was cut off into "unknown"
            Assert.True(Eventually.True(() => State.RequestsInFlight == 0, TimeSpan.FromSeconds(5)), "a request outlived the command");
            // The runs started but not written are named, not lost.
            string warning = Assert.Single(first.Warning).Message;
            foreach (LedgerEntry run in State.Ledger.Where(e => !first.Strings("MessageId").Contains(e.MessageId))) Assert.Contains(run.MessageId, warning);

            State.Faults.Replace(new FaultSettings());
            PsResult rerun = Run(Batch, ("rows", rows), ("journal", Journal));
            Account("downstream stop", rows.Length, new List<PsResult> { first, rerun }, $"posts before the stop={posts}");
            Assert.DoesNotContain(Outcomes(rerun).Values, v => v == "NenPreviousOutcomeUnknown");
            Assert.Equal(started, Outcomes(rerun).Values.Count(v => v == "AlreadyAccepted"));
        }

        private const string Pipeline = Batch + " | Wait-NenRun -PollIntervalSec 0.2 -NoProgress | Get-NenRunResult -Destination $out -RequestTimeoutSec 2 -NoProgress";

        private string Out => Path.Combine(TestDrive, "out");

        [Fact]
        public void AStatusOutageStopsTheWaitWithOneErrorAndTheSameCommandAgainSavesEveryRowsFilesOnce()
        {
            var rows = CsvRows.Numbered(150);
            // Forty status queries go through, then every GET /runs/{id} is a 500 for the rest of the first command.
            State.Faults.Replace(new FaultSettings { ApplyTo = "get", StormAfter = 40, StormLength = 1_000_000, StormKind = "500" });
            PsResult outage = Run(Pipeline, ("rows", rows), ("journal", Journal), ("out", Out));
            int gets = State.GetRuns;

            Assert.Equal("NenServerError,NenAi.Commands.WaitNenRunCommand", outage.Terminating?.FullyQualifiedErrorId);
            Assert.Empty(outage.Errors); // one error for the stage, none per run
            Assert.InRange(gets - 40, 1, 60);
            Assert.Contains("not followed to the end", outage.Terminating!.Exception.Message);

            State.Faults.Replace(new FaultSettings());
            PsResult rerun = Run(Pipeline, ("rows", rows), ("journal", Journal), ("out", Out));
            AccountPipeline("status outage", rows.Length, new List<PsResult> { outage, rerun }, $"GETs into the outage={gets - 40}");
        }

        [Fact]
        public void StalledStorageStopsTheDownloadsWithOneErrorAndTheSameCommandAgainSavesEveryRowsFilesOnce()
        {
            var rows = CsvRows.Numbered(60);
            State.Faults.Script(new ScriptedFault { Kind = "stall-download", Route = "GET /files", Count = 1_000_000 });
            PsResult stalled = Run(Pipeline, ("rows", rows), ("journal", Journal), ("out", Out));
            int downloads = State.Downloads;

            Assert.Equal("NenTimeout,NenAi.Commands.GetNenRunResultCommand", stalled.Terminating?.FullyQualifiedErrorId);
            Assert.Empty(stalled.Errors); // one error for the stage, none per file
            Assert.InRange(downloads, 1, 8 + 4); // the eight on the wire, then a probe or two: not 60 files × 6 attempts
            Assert.True(stalled.Elapsed < TimeSpan.FromSeconds(40), $"took {stalled.Elapsed.TotalSeconds:0.0} s");

            State.Faults.Clear();
            PsResult rerun = Run(Pipeline, ("rows", rows), ("journal", Journal), ("out", Out));
            AccountPipeline("stalled storage", rows.Length, new List<PsResult> { stalled, rerun }, $"downloads into the stall={downloads}");
        }

        /// <summary>
        /// The ledger's verdict on the whole pipeline: no row started twice, and every row's run has its file on disk after
        /// the last command, which ended normally and wrote one file object per row.
        /// </summary>
        private void AccountPipeline(string scenario, int rows, List<PsResult> runs, string detail)
        {
            var started = State.Ledger.GroupBy(e => ((string)e.Params["NAME"]!).Substring("row ".Length)).ToDictionary(g => g.Key, g => g.ToList());
            int duplicates = started.Values.Count(l => l.Count > 1);
            int lost = Enumerable.Range(1, rows).Select(i => i.ToString())
                .Count(id => !started.TryGetValue(id, out var l) || !File.Exists(Path.Combine(Out, l[0].MessageId, "assets.zip")));
            PsResult last = runs[^1];
            _output.WriteLine($"fault matrix ledger (pipeline, {scenario}): rows={rows} runs={runs.Count} " +
                string.Join("; ", runs.Select((r, i) => $"run{i + 1}: files written={r.Output.Count} errors={r.Errors.Count} ended={(r.Terminating is null ? "normally" : r.Terminating.FullyQualifiedErrorId.Split(',')[0])}")) +
                $"; {detail}; ledgerRuns={State.Ledger.Count} duplicates={duplicates} lost={lost}");

            last.AssertClean();
            Assert.Equal(0, duplicates);
            Assert.Equal(0, lost);
            Assert.Equal(rows, last.Output.Count); // every row's file, once (saved now, or found complete and skipped)
            Assert.Equal(rows, last.Strings("RowKey").Distinct().Count());
        }

        /// <summary>Each row's one outcome in a run of the batch: "Accepted", "AlreadyAccepted", or the error id (not the one that ended it).</summary>
        private static Dictionary<string, string> Outcomes(PsResult r)
        {
            var outcomes = new Dictionary<string, string>();
            foreach (PSObject run in r.Output) Add(outcomes, (string)PsResult.Prop(run, "InputObject.Id")!, (string)PsResult.Prop(run, "Status")!);
            foreach (ErrorRecord e in r.Errors.Where(e => e != r.BatchStop)) Add(outcomes, (string)PsResult.Prop(e.TargetObject, "Id")!, e.FullyQualifiedErrorId.Split(',')[0]);
            if (r.Terminating?.TargetObject is PSObject row && PsResult.Prop(row, "Id") is string id) Add(outcomes, id, r.Terminating.FullyQualifiedErrorId.Split(',')[0]);
            return outcomes;
        }

        private static void Add(Dictionary<string, string> outcomes, string row, string outcome)
        {
            Assert.False(outcomes.ContainsKey(row), $"row {row} was reported twice");
            outcomes[row] = outcome;
        }

        /// <summary>
        /// The ledger's verdict over every run of one batch: no row started twice; every row accounted for by the last
        /// run, which ended normally (started exactly once when accepted, at most once when unknown, never otherwise).
        /// </summary>
        private void Account(string scenario, int rows, List<PsResult> runs, string detail = "")
        {
            var started = State.Ledger.GroupBy(e => ((string)e.Params["NAME"]!).Substring("row ".Length)).ToDictionary(g => g.Key, g => g.Count());
            Dictionary<string, string> last = Outcomes(runs[^1]);
            int duplicates = started.Values.Count(n => n > 1);
            int lost = Enumerable.Range(1, rows).Select(i => i.ToString()).Count(id => !last.ContainsKey(id));
            string Count(Dictionary<string, string> o, string what) => o.Values.Count(v => v == what).ToString();
            _output.WriteLine($"fault matrix ledger (cmdlet level, {scenario}): rows={rows} runs={runs.Count} " +
                string.Join("; ", runs.Select((r, i) =>
                {
                    var o = Outcomes(r);
                    return $"run{i + 1}: accepted={Count(o, "Accepted")} alreadyAccepted={Count(o, "AlreadyAccepted")} unknown={Count(o, "NenOutcomeUnknown")} previouslyUnknown={Count(o, "NenPreviousOutcomeUnknown")} " +
                        $"otherErrors={o.Values.Count(v => v is not ("Accepted" or "AlreadyAccepted" or "NenOutcomeUnknown" or "NenPreviousOutcomeUnknown"))} ended={(r.BatchStop is null ? "normally" : r.BatchStop.FullyQualifiedErrorId.Split(',')[0])}";
                })) +
                (detail.Length > 0 ? "; " + detail : string.Empty) +
                $"; ledgerRuns={State.Ledger.Count} duplicates={duplicates} lost={lost}");

            Assert.Null(runs[^1].BatchStop);
            Assert.Equal(0, duplicates);
            Assert.Equal(0, lost);
            foreach (var (row, outcome) in last)
            {
                int times = started.TryGetValue(row, out int n) ? n : 0;
                switch (outcome)
                {
                    case "Accepted":
                    case "AlreadyAccepted":
                        Assert.True(times == 1, $"row {row} is {outcome} but was started {times} time(s)");
                        break;
                    case "NenPreviousOutcomeUnknown":
                    case "NenOutcomeUnknown":
                        Assert.InRange(times, 0, 1); // reported, at most once started
                        break;
                    default:
                        Assert.True(times == 0, $"row {row} failed with {outcome} but was started {times} time(s)");
                        break;
                }
            }
        }
    }
}
