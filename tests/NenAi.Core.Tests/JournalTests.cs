using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using NenAi.TestSupport;
using NenAi.Core.Batch;
using NenAi.Core.Errors;
using NenAi.Core.Journal;
using NenAi.Core.Models;
using NenAi.Core.Rows;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Emulator;
using Xunit;

namespace NenAi.Core.Tests
{
    public sealed class JournalTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("nenai-journal-").FullName;
        private string JournalPath => Path.Combine(_dir, "batch.journal.jsonl");

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        private static RunRequest Row(int i) => Requests.KeyedEcho(i);

        private static async Task<List<SubmissionOutcome>> RunBatch(TestEmulator emu, RunJournal journal, IEnumerable<RunRequest> rows, bool retryUnknown = false)
        {
            using var submitter = new BatchSubmitter(emu.Client(), 4, journal, retryUnknown);
            var list = new List<SubmissionOutcome>();
            await foreach (var o in submitter.SubmitAllAsync(rows)) list.Add(o);
            return list;
        }

        [Fact]
        public async Task ReRunSkipsAcceptedRowsAndReturnsTheirRuns()
        {
            await using var emu = await TestEmulator.StartAsync(c => c.HonourIdempotencyKey = false);
            List<SubmissionOutcome> first;
            using (var journal = RunJournal.Open(JournalPath)) first = await RunBatch(emu, journal, Enumerable.Range(0, 10).Select(Row));
            Assert.Equal(10, emu.State.Ledger.Count);

            using (var journal = RunJournal.Open(JournalPath))
            {
                var second = await RunBatch(emu, journal, Enumerable.Range(0, 12).Select(Row));
                Assert.Equal(10, second.Count(o => o.Status == SubmissionStatus.AlreadyAccepted));
                Assert.Equal(2, second.Count(o => o.Status == SubmissionStatus.Accepted));
                var before = first.ToDictionary(o => o.Request.RowKey!, o => o.Run!.MessageId);
                Assert.All(second.Where(o => o.Status == SubmissionStatus.AlreadyAccepted), o => Assert.Equal(before[o.Request.RowKey!], o.Run!.MessageId));
            }
            Assert.Equal(12, emu.State.Ledger.Count);
        }

        [Fact]
        public async Task RowsThatFailedDefinitivelyAreSubmittedAgain()
        {
            await using var emu = await TestEmulator.StartAsync();
            await emu.ScriptAsync(new ScriptedFault { Kind = "503", Route = "POST /runs", Count = 100, RetryAfterSeconds = 0 });
            using (var journal = RunJournal.Open(JournalPath))
            {
                var outcomes = await RunBatch(emu, journal, new[] { Row(1) });
                Assert.Equal(SubmissionStatus.Failed, outcomes.Single().Status);
            }
            using (var journal = RunJournal.Open(JournalPath))
                Assert.Equal(JournalState.Failed, journal.Find(Row(1).RowKey!)!.State);
            emu.State.Faults.Clear();
            using (var journal = RunJournal.Open(JournalPath))
            {
                var outcomes = await RunBatch(emu, journal, new[] { Row(1) });
                Assert.Equal(SubmissionStatus.Accepted, outcomes.Single().Status);
            }
            Assert.Single(emu.State.Ledger);
        }

        [Fact]
        public async Task UnknownOutcomesAreNotResentUnlessAskedAndThenWithTheSameKey()
        {
            await using var emu = await TestEmulator.StartAsync();
            await emu.ScriptAsync(new ScriptedFault { Kind = "500-after-accept", Route = "POST /runs", Count = 1 });
            using (var journal = RunJournal.Open(JournalPath))
                Assert.Equal(SubmissionStatus.OutcomeUnknown, (await RunBatch(emu, journal, new[] { Row(1) })).Single().Status);

            using (var journal = RunJournal.Open(JournalPath))
            {
                var again = (await RunBatch(emu, journal, new[] { Row(1) })).Single();
                Assert.Equal(SubmissionStatus.OutcomeUnknown, again.Status);
                Assert.Equal(NenErrorIds.PreviousOutcomeUnknown, again.Error!.ErrorId);
            }
            Assert.Equal(1, emu.State.PostRuns);

            using (var journal = RunJournal.Open(JournalPath))
            {
                var retried = (await RunBatch(emu, journal, new[] { Row(1) }, retryUnknown: true)).Single();
                Assert.Equal(SubmissionStatus.Accepted, retried.Status);
                Assert.Equal(emu.State.Ledger.Single().MessageId, retried.Run!.MessageId); // the server replayed the original
            }
            Assert.Single(emu.State.Ledger);
        }

        [Fact]
        public void ACrashAfterSubmittingIsReadAsUnknownAndATornLineIsIgnored()
        {
            using (var journal = RunJournal.Open(JournalPath))
            {
                journal.RecordSubmittingAsync("col:1", TestEmulator.EchoWorkflow, "idem-1").Wait();
                journal.RecordAcceptedAsync("col:2", new RunAccepted("m-2", TestEmulator.EchoWorkflow, null, DateTimeOffset.UtcNow, "{}"), "idem-2").Wait();
            }
            File.AppendAllText(JournalPath, "{\"key\":\"col:3\",\"state\":\"Acc");
            using (var journal = RunJournal.Open(JournalPath))
            {
                Assert.Equal(1, journal.UnreadableLines);
                Assert.Equal(JournalDecision.OutcomeUnknown, journal.Decide("col:1", retryUnknown: false));
                Assert.Equal(JournalDecision.AlreadyAccepted, journal.Decide("col:2", retryUnknown: false));
                Assert.Equal(JournalDecision.Submit, journal.Decide("col:3", retryUnknown: false));
                journal.RecordFailedAsync("col:3", TestEmulator.EchoWorkflow, "key-3", "X").Wait();
            }
            using (var journal = RunJournal.Open(JournalPath))
            {
                Assert.Equal(JournalState.Failed, journal.Find("col:3")!.State); // the torn line did not swallow the next record
            }
        }

        [Fact]
        public async Task CancellingMidBatchLeavesTheJournalConsistentWithTheServer()
        {
            await using var emu = await TestEmulator.StartAsync(c => c.Faults = new FaultSettings { LatencyMs = 150 });
            using var cts = new System.Threading.CancellationTokenSource();
            using (var journal = RunJournal.Open(JournalPath))
            using (var submitter = new BatchSubmitter(emu.Client(), 4, journal))
            {
                int seen = 0;
                await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
                {
                    await foreach (var o in submitter.SubmitAllAsync(Enumerable.Range(0, 60).Select(Row), cts.Token))
                        if (++seen == 5) cts.Cancel();
                });
                await submitter.WhenIdleAsync();
                Assert.Equal(0, submitter.InFlight); // no request outlives the batch
            }

            using (var journal = RunJournal.Open(JournalPath))
            {
                Assert.Equal(0, journal.UnreadableLines);
                var started = emu.State.Ledger.Select(l => RowKey.FromColumn("Id", l.Params["NAME"]!.GetValue<string>().Substring(3))).ToHashSet();
                // Every run the server started is remembered as accepted or unknown: a re-run cannot start it again.
                foreach (string key in started)
                    Assert.NotEqual(JournalDecision.Submit, journal.Decide(key, retryUnknown: false));
                // And nothing is remembered as accepted that the server never started.
                foreach (int i in Enumerable.Range(0, 60))
                {
                    string key = RowKey.FromColumn("Id", i);
                    if (journal.Decide(key, false) == JournalDecision.AlreadyAccepted) Assert.Contains(key, started);
                }
            }
        }

        [Fact]
        public void TheJournalHoldsNoParameterValues()
        {
            using (var journal = RunJournal.Open(JournalPath))
                journal.RecordAcceptedAsync(RowKey.Hash(TestEmulator.EchoWorkflow, new[] { new KeyValuePair<string, object?>("NAME", "canary-row-value") }),
                    new RunAccepted("m", TestEmulator.EchoWorkflow, null, DateTimeOffset.UtcNow, "{}"), "k").Wait();
            Assert.DoesNotContain("canary-row-value", File.ReadAllText(JournalPath));
        }

        [Fact]
        public void TwoBatchesCannotShareOneJournal()
        {
            using var first = RunJournal.Open(JournalPath);
            var ex = Assert.Throws<NenException>(() => RunJournal.Open(JournalPath));
            Assert.Equal(NenErrorIds.JournalInUse, ex.ErrorId);
            Assert.Equal(NenErrorCategory.ResourceUnavailable, ex.Category);
        }

        [Fact]
        public void RowHashIgnoresColumnOrderButNotValues()
        {
            var a = RowKey.Hash(TestEmulator.EchoWorkflow, new[] { new KeyValuePair<string, object?>("A", "1"), new KeyValuePair<string, object?>("B", "2") });
            var b = RowKey.Hash(TestEmulator.EchoWorkflow, new[] { new KeyValuePair<string, object?>("B", "2"), new KeyValuePair<string, object?>("A", "1") });
            var c = RowKey.Hash(TestEmulator.EchoWorkflow, new[] { new KeyValuePair<string, object?>("A", "1"), new KeyValuePair<string, object?>("B", "3") });
            Assert.Equal(a, b);
            Assert.NotEqual(a, c);
            Assert.StartsWith("sha256:", a);
        }
    }
}
