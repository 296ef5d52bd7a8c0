using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using NenAi.Core.Batch;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Journal;
using NenAi.Core.Models;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Emulator;
using NenAi.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// Rate limits are shared by the whole batch: a 429/503 pauses every sender, and a storm that outlasts the retry
    /// budget stops the batch instead of costing one request per row. A busy service that refuses only some requests
    /// never stops it.
    /// </summary>
    public sealed class StormTests : IDisposable
    {
        private const int Rows = 200;
        private readonly string _dir = Directory.CreateTempSubdirectory("nenai-storm-").FullName;
        private readonly ITestOutputHelper _output;

        public StormTests(ITestOutputHelper output) => _output = output;

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        private static async Task<List<SubmissionOutcome>> Submit(TestEmulator emu, string? journalPath, int concurrency = 16, Action<NenAi.Core.Configuration.NenClientOptions>? options = null)
        {
            using RunJournal? journal = journalPath is null ? null : RunJournal.Open(journalPath);
            using var submitter = new BatchSubmitter(emu.Client(o => { o.RetryBaseDelay = TimeSpan.FromMilliseconds(50); options?.Invoke(o); }), concurrency, journal);
            var outcomes = new List<SubmissionOutcome>();
            await foreach (var o in submitter.SubmitAllAsync(Enumerable.Range(0, Rows).Select(i => Requests.KeyedEcho(i, batchId: journal?.BatchId ?? "none")))) outcomes.Add(o);
            return outcomes;
        }

        [Theory]
        [InlineData(300)] // beyond the retry duration: the batch stops at the first answer
        [InlineData(0)]   // no Retry-After to go by: back-off pauses until they have spent the (time) budget
        public async Task AStormThatOutlastsTheBudgetCostsAtMost40PostsAndTheReRunStartsEachRowOnce(int retryAfterSeconds)
        {
            await using var emu = await TestEmulator.StartAsync();
            await emu.ScriptAsync(new ScriptedFault { Kind = "429", Route = "POST /runs", Count = 100_000, RetryAfterSeconds = retryAfterSeconds });
            string journal = Path.Combine(_dir, "storm.jsonl");
            var clock = Stopwatch.StartNew();

            // Issue 25: the budget is a time (it was -MaximumRetryCount 3 pauses); 3 s keeps the test short.
            var first = await Submit(emu, journal, options: o => { o.MaximumRetryCount = 3; o.MaximumRetryDuration = TimeSpan.FromSeconds(3); });

            clock.Stop();
            int posts = emu.State.PostRuns;
            _output.WriteLine($"storm (Retry-After {retryAfterSeconds} s): {posts} POSTs for {Rows} rows in {clock.Elapsed.TotalSeconds:0.0} s; " +
                $"{first.Count(o => o.Error?.ErrorId == NenErrorIds.NotSent)} not sent, {first.Count(o => o.Error?.ErrorId == NenErrorIds.RateLimited)} refused");
            Assert.InRange(posts, 1, 40);
            Assert.Equal(Rows, first.Count);
            Assert.Equal(Rows, first.Select(o => o.Request.RowKey).Distinct().Count()); // each row reported once
            Assert.All(first, o =>
            {
                Assert.Equal(SubmissionStatus.Failed, o.Status);
                Assert.Contains(o.Error!.ErrorId, new[] { NenErrorIds.NotSent, NenErrorIds.RateLimited });
            });
            Assert.Empty(emu.State.Ledger);

            // The storm is over: the same batch again starts every row exactly once.
            emu.State.Faults.Clear();
            var second = await Submit(emu, journal);
            Assert.All(second, o => Assert.Equal(SubmissionStatus.Accepted, o.Status));
            Assert.Equal(Rows, emu.State.Ledger.Count);
            Assert.Equal(Rows, emu.State.Ledger.Select(e => (string)e.Params["NAME"]!).Distinct().Count());
        }

        [Fact]
        public async Task ABurstOf429WithAShortRetryAfterIsRiddenOutByTheWholeBatchWhateverTheRetryCount()
        {
            // Issue 25: 3 s of 429 (Retry-After 1) from the first request. With -MaximumRetryCount 1 the batch used to stop
            // after two pauses with nothing sent; the budget is now a time (120 s by default) and the batch waits it out.
            await using var emu = await TestEmulator.StartAsync(c => c.Faults = new FaultSettings { ApplyTo = "post", StormForSeconds = 3, StormRetryAfterSeconds = 1 });
            var clock = Stopwatch.StartNew();

            var outcomes = await Submit(emu, journalPath: null, options: o => o.MaximumRetryCount = 1);

            clock.Stop();
            _output.WriteLine($"a 3 s burst of 429 (Retry-After 1): {emu.State.PostRuns} POSTs for {Rows} rows in {clock.Elapsed.TotalSeconds:0.0} s");
            Assert.All(outcomes, o => Assert.Equal(SubmissionStatus.Accepted, o.Status));
            Assert.Equal(Rows, emu.State.Ledger.Select(e => (string)e.Params["NAME"]!).Distinct().Count());
            Assert.Equal(Rows, emu.State.Ledger.Count);
            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.9), "the burst was not waited out");
            // One pause for the batch: the 16 requests on the wire, then about a probe a second.
            Assert.InRange(emu.State.PostRuns - Rows, 1, 16 + 3 + 2);
        }

        [Fact]
        public async Task AWorkflowTheServiceDoesNotKnowIsAskedAboutOnceAndItsOtherRowsAreNotSent()
        {
            await using var emu = await TestEmulator.StartAsync(c => c.Faults = new FaultSettings { LatencyMs = 20, ApplyTo = "post" });
            const string unknown = "99999999-9999-4999-8999-999999999999";
            using var submitter = new BatchSubmitter(emu.Client(), maxConcurrency: 8);
            IEnumerable<RunRequest> Mixed()
            {
                for (int i = 1; i <= 90; i++)
                {
                    var r = i % 3 == 0 ? Requests.Echo("row" + i) : new RunRequest(unknown);
                    r.Row = i;
                    yield return r;
                }
            }
            var outcomes = new List<SubmissionOutcome>();
            await foreach (var o in submitter.SubmitAllAsync(Mixed())) outcomes.Add(o);

            Assert.Equal(90, outcomes.Count);
            Assert.Equal(30, outcomes.Count(o => o.Status == SubmissionStatus.Accepted));
            var refused = outcomes.Where(o => o.Request.WorkflowId == unknown).ToList();
            Assert.All(refused, o => Assert.Equal(NenErrorIds.WorkflowNotFound, o.Error!.ErrorId));
            Assert.InRange(emu.State.PostRuns - 30, 1, 8); // asked at most once per place on the wire
            Assert.Contains(refused, o => o.Error!.Message.StartsWith("Not sent: the service does not know workflow '" + unknown + "'", StringComparison.Ordinal));
            Assert.Equal(CircuitTrip.None, submitter.Circuit.Trip); // not the service failing for everyone: the other workflow goes on

            // The tally shows one error for the workflow and counts the rest as failed, naming them.
            var tally = new BatchTally();
            for (int i = 0; i < 90; i++) tally.Read();
            int shown = outcomes.Count(o => tally.Count(o, submitter.Circuit) == OutcomeShown.Error);
            Assert.Equal(1, shown);
            Assert.Equal(60, tally.Failed);
            Assert.Contains("59 more row(s) naming it were not started", Assert.Single(tally.RefusedWorkflows()));
        }

        [Fact]
        public async Task ABusyServiceThatRefusesSomeRequestsNeverStopsTheBatch()
        {
            await using var emu = await TestEmulator.StartAsync(c => c.Faults = new FaultSettings { Rate429 = 0.15, Rate503 = 0.05, RetryAfterSeconds = 0, ApplyTo = "post", Seed = 7 });

            var outcomes = await Submit(emu, journalPath: null, options: o => o.MaximumRetryCount = 8);

            Assert.Equal(Rows, outcomes.Count);
            Assert.DoesNotContain(outcomes, o => o.Error?.ErrorId == NenErrorIds.NotSent);
            Assert.Equal(Rows, emu.State.Ledger.Count);
            Assert.True(emu.State.PostRuns > Rows, "the service really refused some requests");
        }

        [Fact]
        public async Task OneRefusalPausesEverySenderForTheRetryAfter()
        {
            await using var emu = await TestEmulator.StartAsync(c => c.Faults = new FaultSettings { LatencyMs = 50, ApplyTo = "post" });
            // The third request is refused with Retry-After: 1; every row sent after it must wait that second.
            await emu.ScriptAsync(new ScriptedFault { Kind = "latency", Route = "POST /runs", Count = 2 });
            await emu.ScriptAsync(new ScriptedFault { Kind = "429", Route = "POST /runs", Count = 1, RetryAfterSeconds = 1 });

            var outcomes = await Submit(emu, journalPath: null, concurrency: 4);

            Assert.All(outcomes, o => Assert.Equal(SubmissionStatus.Accepted, o.Status));
            var accepted = emu.State.Ledger.Select(e => e.AcceptedAt).OrderBy(t => t).ToList();
            // The answers in flight when the 429 came may land at once; then nothing for the pause, then the rest.
            TimeSpan longestGap = accepted.Zip(accepted.Skip(1), (a, b) => b - a).Max();
            Assert.True(longestGap >= TimeSpan.FromSeconds(0.95), $"the longest gap between accepted runs was {longestGap.TotalMilliseconds:0} ms");
            Assert.Equal(Rows + 1, emu.State.PostRuns);
        }
    }
}
