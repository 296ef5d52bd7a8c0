using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NenAi.TestSupport;
using NenAi.Core.Batch;
using NenAi.Core.Errors;
using NenAi.Core.Models;
using NenAi.Core.Rows;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Emulator;
using Xunit;

namespace NenAi.Core.Tests
{
    public class BatchSubmitterTests
    {
        [Fact]
        public async Task ConcurrencyBoundIsRespectedAndEveryRowIsAccepted()
        {
            await using var emu = await TestEmulator.StartAsync(c => c.Faults = new FaultSettings { LatencyMs = 100 });
            using var submitter = new BatchSubmitter(emu.Client(), maxConcurrency: 4);
            var outcomes = new List<SubmissionOutcome>();
            await foreach (var o in submitter.SubmitAllAsync(Enumerable.Range(0, 24).Select(i => Requests.Echo("row" + i)))) outcomes.Add(o);
            Assert.Equal(24, outcomes.Count);
            Assert.All(outcomes, o => Assert.Equal(SubmissionStatus.Accepted, o.Status));
            Assert.Equal(24, emu.State.Ledger.Count);
            Assert.Equal(4, emu.State.MaxConcurrentPosts); // reached, never exceeded
        }

        [Fact]
        public async Task ResultsStreamBeforeTheInputIsExhausted()
        {
            await using var emu = await TestEmulator.StartAsync();
            int pulled = 0;
            IEnumerable<RunRequest> Input()
            {
                for (int i = 0; i < 200; i++) { Interlocked.Increment(ref pulled); yield return Requests.Echo("row" + i); }
            }
            using var submitter = new BatchSubmitter(emu.Client(), maxConcurrency: 4);
            int pulledAtFirstResult = -1, count = 0;
            await foreach (var o in submitter.SubmitAllAsync(Input()))
            {
                if (pulledAtFirstResult < 0) pulledAtFirstResult = Volatile.Read(ref pulled);
                count++;
            }
            Assert.Equal(200, count);
            Assert.InRange(pulledAtFirstResult, 1, 9); // at most 2 × concurrency + 1 rows ahead: nothing else is buffered
        }

        [Fact]
        public async Task AFinishedRequestHandsItsPlaceToAWaitingRowWithoutTheCaller()
        {
            // A PowerShell pipeline thread reads one row at a time; the wire must not wait for it.
            await using var emu = await TestEmulator.StartAsync(c => c.Faults = new FaultSettings { LatencyMs = 200 });
            using var submitter = new BatchSubmitter(emu.Client(), maxConcurrency: 2);
            for (int i = 0; i < 4; i++)
            {
                Assert.True(submitter.HasFreeSlot, $"row {i} would have waited");
                Task submitted = submitter.SubmitAsync(Requests.Echo("row" + i));
                Assert.True(submitted.IsCompleted, $"row {i} waited for a place");
            }
            Assert.False(submitter.HasFreeSlot); // 2 × the concurrency: the most rows a batch holds

            // Nobody takes an outcome, yet all four rows are sent, never more than two at once.
            Assert.True(await Eventually.TrueAsync(() => emu.State.Ledger.Count == 4 && submitter.InFlight == 0), $"{emu.State.Ledger.Count} of 4 sent");
            Assert.Equal(2, emu.State.MaxConcurrentPosts);
            // In input order: the rows that waited went out after the first two.
            Assert.Equal(new[] { "row2", "row3" }, emu.State.Ledger.Skip(2).Select(l => l.Params["NAME"]!.GetValue<string>()).OrderBy(n => n));
            Task fifth = submitter.SubmitAsync(Requests.Echo("row4"));
            Assert.False(fifth.IsCompleted); // the batch is full until an outcome is taken
            Assert.Equal(SubmissionStatus.Accepted, (await submitter.TakeAsync())!.Status);
            await fifth.WaitAsync(TimeSpan.FromSeconds(10));
        }

        [Fact]
        public async Task RowsStillWaitingForAPlaceWhenStoppedAreNotSentAndNeverJournaled()
        {
            // Ctrl+C frees row 1's place and cancels row 2's wait in the same instant; whichever wins, row 2 must
            // not be journaled or sent. Repeated because the race goes one way or the other from run to run.
            for (int attempt = 0; attempt < 25; attempt++)
                await StopWhileARowWaitsForItsPlace();
        }

        private static async Task StopWhileARowWaitsForItsPlace()
        {
            await using var emu = await TestEmulator.StartAsync();
            emu.State.Faults.Script(new ScriptedFault { Kind = "latency", Route = "POST /runs", Count = 10, LatencyMs = 60_000 });
            string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"nenai-wire-{Guid.NewGuid():N}.jsonl");
            try
            {
                using var cts = new CancellationTokenSource();
                using (var journal = Journal.RunJournal.Open(path))
                using (var submitter = new BatchSubmitter(emu.Client(), 1, journal))
                {
                    await submitter.SubmitAsync(Requests.KeyedEcho(1), cts.Token);
                    await submitter.SubmitAsync(Requests.KeyedEcho(2), cts.Token); // waits behind row 1
                    Assert.True(await Eventually.TrueAsync(() => emu.State.RequestsInFlight == 1), "row 1 never arrived");
                    cts.Cancel();
                    await submitter.WhenIdleAsync();
                    var outcomes = new[] { (await submitter.TakeAsync())!, (await submitter.TakeAsync())! };
                    SubmissionOutcome second = Assert.Single(outcomes, o => o.Request.RowKey == RowKey.FromColumn("Id", 2));
                    Assert.Equal(SubmissionStatus.Failed, second.Status);
                    Assert.Equal(NenErrorIds.NotSent, second.Error!.ErrorId);
                    Assert.Equal(SubmissionStatus.OutcomeUnknown, Assert.Single(outcomes, o => o != second).Status);
                }
                using (var journal = Journal.RunJournal.Open(path))
                {
                    Assert.Null(journal.Find(RowKey.FromColumn("Id", 2))); // never "submitting": a re-run sends it
                    Assert.Equal(Journal.JournalDecision.OutcomeUnknown, journal.Decide(RowKey.FromColumn("Id", 1), retryUnknown: false));
                }
            }
            finally
            {
                System.IO.File.Delete(path);
                System.IO.File.Delete(path + ".lock");
            }
        }

        [Fact]
        public async Task OneBadRowFailsAloneAndTheBatchGoesOn()
        {
            await using var emu = await TestEmulator.StartAsync();
            var rows = new List<RunRequest> { Requests.Echo("a"), new RunRequest("not-a-guid"), new RunRequest(Guid.NewGuid().ToString()), Requests.Echo("b") };
            using var submitter = new BatchSubmitter(emu.Client(), maxConcurrency: 2);
            var outcomes = new List<SubmissionOutcome>();
            await foreach (var o in submitter.SubmitAllAsync(rows)) outcomes.Add(o);
            Assert.Equal(2, outcomes.Count(o => o.Status == SubmissionStatus.Accepted));
            Assert.Contains(outcomes, o => o.Error?.ErrorId == NenErrorIds.InvalidWorkflowId && ReferenceEquals(o.Request, rows[1]));
            Assert.Contains(outcomes, o => o.Error?.ErrorId == NenErrorIds.WorkflowNotFound && ReferenceEquals(o.Request, rows[2]));
        }

        [Fact]
        public async Task DuplicateRowKeysInOneBatchAreRefused()
        {
            await using var emu = await TestEmulator.StartAsync();
            using var submitter = new BatchSubmitter(emu.Client(), maxConcurrency: 2);
            var outcomes = new List<SubmissionOutcome>();
            await foreach (var o in submitter.SubmitAllAsync(new[] { Requests.Echo("a", "col:1"), Requests.Echo("b", "col:1") })) outcomes.Add(o);
            Assert.Single(outcomes, o => o.Status == SubmissionStatus.Accepted);
            var dup = Assert.Single(outcomes, o => o.Status == SubmissionStatus.Failed);
            Assert.Equal(NenErrorIds.DuplicateRowKey, dup.Error!.ErrorId);
            Assert.Contains("key '1'", dup.Error.Message);
            Assert.Single(emu.State.Ledger);
        }

        [Fact]
        public async Task CancellationLeavesNoRequestRunningAndEveryRowAccountedFor()
        {
            await using var emu = await TestEmulator.StartAsync(c => c.Faults = new FaultSettings { LatencyMs = 300 });
            using var cts = new CancellationTokenSource();
            using var submitter = new BatchSubmitter(emu.Client(), maxConcurrency: 4);
            var outcomes = new List<SubmissionOutcome>();
            var input = Enumerable.Range(0, 50).Select(i => Requests.Echo("row" + i));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                await foreach (var o in submitter.SubmitAllAsync(input, cts.Token))
                {
                    outcomes.Add(o);
                    if (outcomes.Count == 6) cts.Cancel();
                }
            });
            await submitter.WhenIdleAsync();
            Assert.Equal(0, submitter.InFlight);
            while (submitter.TryTake(out var rest)) outcomes.Add(rest!);
            // Nothing the client counted as accepted is missing from the server, and vice versa.
            var accepted = outcomes.Where(o => o.Status == SubmissionStatus.Accepted).Select(o => o.Run!.MessageId).ToHashSet();
            Assert.All(accepted, id => Assert.Contains(emu.State.Ledger, l => l.MessageId == id));
            int unknown = outcomes.Count(o => o.Status == SubmissionStatus.OutcomeUnknown);
            Assert.InRange(emu.State.Ledger.Count, accepted.Count, accepted.Count + unknown);
        }
    }
}
