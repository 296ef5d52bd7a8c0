using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using NenAi.Emulator;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// 1,000 rows through Start-NenRun with a journal under 10% 429/503, 5% 500-after-accept, 5% resets and a storm
    /// phase that outlasts the retry budget; then the same command again. Judged by the emulator's own ledger, with
    /// its Idempotency-Key support switched off (the real service may not have it): every row started exactly once or
    /// reported, none twice, none lost.
    /// </summary>
    public class FaultMatrixTests : HostedTest
    {
        private const int Rows = 1000;
        private readonly ITestOutputHelper _output;

        public FaultMatrixTests(ITestOutputHelper output) => _output = output;

        /// <summary>The faults of a night; the first also has a storm that outlasts the retry budget.</summary>
        private static FaultSettings Faults(int seed, bool storm) => new FaultSettings
        {
            Rate429 = 0.05, Rate503 = 0.05, Rate500AfterAccept = 0.05, RateReset = 0.025, RateResetAfterAccept = 0.025,
            RetryAfterSeconds = 0, ApplyTo = "post", Seed = seed,
            StormAfter = storm ? 600 : 0, StormLength = 60, StormRetryAfterSeconds = 0,
        };

        protected override void Configure(EmulatorConfig config)
        {
            config.HonourIdempotencyKey = false;
            config.Faults = Faults(20261123, storm: true);
        }

        private const string Batch = "$rows | Start-NenRun -WorkflowId $echo -KeyProperty Id -ExcludeProperty Id -JournalPath $journal -ThrottleLimit 16 -NoProgress";

        /// <summary>Each row's one outcome in a run of the batch: "Accepted", "AlreadyAccepted", or the error id.</summary>
        private static Dictionary<string, string> Outcomes(PsResult r)
        {
            var outcomes = new Dictionary<string, string>();
            foreach (PSObject run in r.Output) Add(outcomes, (string)PsResult.Prop(run, "InputObject.Id")!, (string)PsResult.Prop(run, "Status")!);
            foreach (ErrorRecord e in r.Errors) Add(outcomes, (string)PsResult.Prop(e.TargetObject, "Id")!, e.FullyQualifiedErrorId.Split(',')[0]);
            return outcomes;
        }

        private static void Add(Dictionary<string, string> outcomes, string row, string outcome)
        {
            Assert.False(outcomes.ContainsKey(row), $"row {row} was reported twice");
            outcomes[row] = outcome;
        }

        [Fact]
        public void NothingStartedTwiceNothingLostAcrossAStormAndARerun()
        {
            string journal = Path.Combine(TestDrive, "matrix.jsonl");
            var rows = CsvRows.Numbered(Rows);

            PsResult first = Run(Batch, ("rows", rows), ("journal", journal));
            var run1 = Outcomes(first);
            int postsRun1 = State.PostRuns;
            State.Faults.Replace(Faults(20261124, storm: false));
            PsResult second = Run(Batch, ("rows", rows), ("journal", journal));
            var run2 = Outcomes(second);

            var started = State.Ledger.GroupBy(e => ((string)e.Params["NAME"]!).Substring("row ".Length)).ToDictionary(g => g.Key, g => g.Count());
            int duplicates = started.Values.Count(n => n > 1);
            int lost = Enumerable.Range(1, Rows).Select(i => i.ToString()).Count(id => !run2.ContainsKey(id));
            string Count(Dictionary<string, string> o, string what) => o.Values.Count(v => v == what).ToString();
            _output.WriteLine($"fault matrix ledger (cmdlet level): rows={Rows} " +
                $"run1: accepted={Count(run1, "Accepted")} notSent={Count(run1, "NenNotSent")} refused={Count(run1, "NenRateLimited") + Count(run1, "NenServiceUnavailable")} unknown={Count(run1, "NenOutcomeUnknown")} posts={postsRun1}; " +
                $"run2: alreadyAccepted={Count(run2, "AlreadyAccepted")} accepted={Count(run2, "Accepted")} previouslyUnknown={Count(run2, "NenPreviousOutcomeUnknown")} other={run2.Values.Count(v => v is not ("AlreadyAccepted" or "Accepted" or "NenPreviousOutcomeUnknown"))}; " +
                $"ledgerRuns={State.Ledger.Count} duplicates={duplicates} lost={lost}");

            Assert.Null(first.Terminating);
            Assert.Null(second.Terminating);
            Assert.Equal(Rows, run1.Count);   // every row accounted for, once
            Assert.Equal(Rows, run2.Count);
            Assert.Equal(0, duplicates);
            Assert.Equal(0, lost);
            Assert.True(run1.Values.Count(v => v == "NenNotSent") > 0 && run1.Values.Count(v => v == "NenOutcomeUnknown") > 0, "the storm and the faults must bite");
            Assert.True(run2.Values.Count(v => v == "Accepted") > run1.Values.Count(v => v == "NenNotSent") / 2, "the re-run sends what the first run did not");
            foreach (var (row, outcome) in run2)
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
