using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using NenAi.Core.Batch;
using NenAi.Core.Errors;
using NenAi.Core.Journal;
using NenAi.Core.Models;
using NenAi.Core.Rows;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Emulator;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// The journal is the batch: Idempotency-Keys are scoped to it, so a new batch never gets an earlier batch's runs
    /// back while a re-run of the same batch still reuses its keys. Its Submitting line is on disk before the POST.
    /// </summary>
    public sealed class BatchScopeTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("nenai-batch-").FullName;

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        private static RunRequestFactory Factory() => new RunRequestFactory(new RowMapper(), keyProperty: "Id");

        private static RunRequest Row(RunRequestFactory factory, int id) =>
            factory.Create(TestEmulator.EchoWorkflow, Requests.Cells(("Id", id), ("NAME", "row" + id)), null, null);

        [Fact]
        public void TheSameRowInAnotherBatchGetsAnotherIdempotencyKey()
        {
            RunRequestFactory monday = Factory(), tuesday = Factory();
            monday.BatchId = "monday";
            tuesday.BatchId = "tuesday";

            Assert.Equal(Row(monday, 1).IdempotencyKey, Row(monday, 1).IdempotencyKey);
            Assert.NotEqual(Row(monday, 1).IdempotencyKey, Row(tuesday, 1).IdempotencyKey);
            Assert.NotEqual(Row(Factory(), 1).IdempotencyKey, Row(Factory(), 1).IdempotencyKey); // no journal: a fresh batch each time
        }

        [Fact]
        public void AJournalNamesItsBatchOnceAndKeepsItAcrossReopens()
        {
            string path = Path.Combine(_dir, "nightly.jsonl");
            string batch;
            using (var journal = RunJournal.Open(path)) batch = journal.BatchId;
            using (var journal = RunJournal.Open(path)) Assert.Equal(batch, journal.BatchId);
            using (var other = RunJournal.Open(Path.Combine(_dir, "other.jsonl"))) Assert.NotEqual(batch, other.BatchId);
            Assert.Equal(1, File.ReadAllLines(path).Count(l => l.Contains("\"batchId\"")));
        }

        [Fact]
        public void AJournalWrittenBeforeBatchesGetsABatchAndKeepsItsRows()
        {
            string path = Path.Combine(_dir, "old.jsonl");
            File.WriteAllText(path, "{\"key\":\"col:1\",\"state\":\"Accepted\",\"messageId\":\"m-1\",\"idempotencyKey\":\"old-key\"}\n");
            using var journal = RunJournal.Open(path);
            Assert.NotEmpty(journal.BatchId);
            Assert.Equal(0, journal.UnreadableLines);
            Assert.Equal(JournalDecision.AlreadyAccepted, journal.Decide("col:1", retryUnknown: false));
        }

        [Fact]
        public async Task TwoNightsWithTheirOwnJournalsStartTheirOwnRuns()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            var messageIds = new List<string>();
            foreach (string night in new[] { "monday.jsonl", "tuesday.jsonl" })
            {
                using var journal = RunJournal.Open(Path.Combine(_dir, night));
                RunRequestFactory factory = Factory();
                factory.BatchId = journal.BatchId;
                using var submitter = new BatchSubmitter(client, 4, journal);
                await foreach (var o in submitter.SubmitAllAsync(Enumerable.Range(1, 5).Select(i => Row(factory, i))))
                {
                    Assert.Equal(SubmissionStatus.Accepted, o.Status);
                    messageIds.Add(o.Run!.MessageId);
                }
            }
            Assert.Equal(10, messageIds.Distinct().Count());
            Assert.Equal(10, emu.State.Ledger.Count);
        }

        [Fact]
        public async Task AKeyReusedWithAnotherBodyIsItsOwnError()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            var first = Requests.Echo("first");
            first.IdempotencyKey = "same-key";
            await client.StartRunAsync(first);
            var second = Requests.Echo("changed");
            second.IdempotencyKey = "same-key";

            var ex = await Assert.ThrowsAsync<NenException>(() => client.StartRunAsync(second));

            Assert.Equal(NenErrorIds.IdempotencyKeyReused, ex.ErrorId);
            Assert.Equal(NenErrorCategory.InvalidOperation, ex.Category);
        }

        [Fact]
        public async Task TheSubmittingLineIsInTheFileBeforeTheRequestReachesTheServer()
        {
            await using var emu = await TestEmulator.StartAsync(c => c.Faults = new FaultSettings { LatencyMs = 2000, ApplyTo = "post" });
            string path = Path.Combine(_dir, "durable.jsonl");
            using var journal = RunJournal.Open(path);
            using var submitter = new BatchSubmitter(emu.Client(), 1, journal);
            RunRequest row = Requests.KeyedEcho(7, batchId: journal.BatchId);

            await submitter.SubmitAsync(row);
            Assert.True(await Eventually.TrueAsync(() => emu.State.RequestsInFlight > 0), "the request never arrived");

            // The server is holding the request: its row must already be recorded as Submitting.
            string[] lines;
            using (var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))) lines = reader.ReadToEnd().Split('\n');
            Assert.Contains(lines, l => l.Contains("\"key\":\"col:7\"") && l.Contains("\"state\":\"Submitting\""));
            Assert.Equal(SubmissionStatus.Accepted, (await submitter.TakeAsync())!.Status);
        }

    }
}
