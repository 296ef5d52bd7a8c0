using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using NenAi.Core.Batch;
using NenAi.Core.Errors;
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
        [InlineData(0)]   // short pauses: the batch stops once the probes have spent the budget
        public async Task AStormThatOutlastsTheBudgetCostsAtMost40PostsAndTheReRunStartsEachRowOnce(int retryAfterSeconds)
        {
            await using var emu = await TestEmulator.StartAsync();
            await emu.ScriptAsync(new ScriptedFault { Kind = "429", Route = "POST /runs", Count = 100_000, RetryAfterSeconds = retryAfterSeconds });
            string journal = Path.Combine(_dir, "storm.jsonl");
            var clock = Stopwatch.StartNew();

            var first = await Submit(emu, journal, options: o => o.MaximumRetryCount = 3);

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
