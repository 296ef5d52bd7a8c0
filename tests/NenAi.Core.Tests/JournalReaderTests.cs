using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using NenAi.Core.Batch;
using NenAi.Core.Errors;
using NenAi.Core.Journal;
using NenAi.Core.Models;
using NenAi.Core.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>Listing a journal's rows without its lock: what Get-NenRun -JournalPath stands on.</summary>
    public sealed class JournalReaderTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("nenai-journal-reader-").FullName;
        private string JournalPath => Path.Combine(_dir, "nightly.jsonl");

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        private static string Record(string key, string state, string? messageId = null, string? errorId = null) =>
            $"{{\"key\":\"{key}\",\"state\":\"{state}\",\"workflowId\":\"{TestEmulator.EchoWorkflow}\"" +
            (messageId is null ? "" : $",\"messageId\":\"{messageId}\"") + ",\"idempotencyKey\":\"nenai-" + key.Replace(":", "") + "\"" +
            (errorId is null ? "" : $",\"errorId\":\"{errorId}\"") + ",\"at\":\"2025-01-02T03:04:05.0000000+00:00\"}";

        [Fact]
        public void EachRowIsItsLastRecordInTheOrderRowsFirstAppear()
        {
            File.WriteAllText(JournalPath, string.Join("\n",
                "{\"batchId\":\"b-1\",\"startedAt\":\"2025-01-02T03:00:00Z\"}",   // a batch header: not a row
                Record("col:1", "Submitting"),
                Record("col:2", "Submitting"),
                Record("col:1", "Accepted", "m-1"),
                "",
                Record("col:3", "Submitting"),
                Record("col:2", "Failed", errorId: "NenServiceUnavailable"),
                Record("col:3", "Unknown", errorId: "NenTimeout"),
                Record("col:4", "Submitting"),
                "{\"key\":\"col:5\",\"state\":\"Acc") + "\n");  // torn by a crash

            JournalSnapshot snapshot = JournalReader.Read(JournalPath);

            Assert.Equal(new[] { "col:1", "col:2", "col:3", "col:4" }, snapshot.Rows.Select(r => r.Key));
            Assert.Equal(new[] { JournalState.Accepted, JournalState.Failed, JournalState.Unknown, JournalState.Submitting }, snapshot.Rows.Select(r => r.State));
            Assert.Equal("m-1", snapshot.Rows[0].MessageId);
            Assert.Equal(TestEmulator.EchoWorkflow, snapshot.Rows[0].WorkflowId);
            Assert.Equal("nenai-col1", snapshot.Rows[0].IdempotencyKey);
            Assert.Equal(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero), snapshot.Rows[0].At);
            Assert.Equal("NenTimeout", snapshot.Rows[2].ErrorId);
            Assert.Equal(1, snapshot.UnreadableLines); // the torn line; the header is not counted
            Assert.Equal(Path.GetFullPath(JournalPath), snapshot.Path);
        }

        [Theory]
        [InlineData("not json at all", true)]
        [InlineData("[1,2]", true)]
        [InlineData("{\"key\":\"col:1\"}", true)]
        [InlineData("{\"key\":\"col:1\",\"state\":\"Exploded\"}", true)]
        [InlineData("{\"key\":\"col:1\",\"state\":\"7\"}", true)]
        [InlineData("{\"key\":42,\"state\":\"Accepted\"}", true)]
        [InlineData("{\"batchId\":\"b-1\"}", false)]
        public void ALineThatIsNotARowRecordIsNoRow(string line, bool unreadable)
        {
            JournalLine parsed = JournalLine.Parse(line);
            Assert.Null(parsed.Entry);
            Assert.Equal(unreadable, !parsed.IsReadable);
        }

        [Fact]
        public async Task AJournalHeldByARunningBatchCanBeReadAndShowsWhatWasFlushed()
        {
            await using var emu = await TestEmulator.StartAsync();
            using var journal = RunJournal.Open(JournalPath);   // holds the exclusive .lock and the file itself
            using (var submitter = new BatchSubmitter(emu.Client(), 2, journal))
                await foreach (SubmissionOutcome _ in submitter.SubmitAllAsync(Enumerable.Range(1, 3).Select(i => Requests.KeyedEcho(i)))) { }

            JournalSnapshot snapshot = JournalReader.Read(JournalPath);

            Assert.Equal(3, snapshot.Rows.Count);
            Assert.All(snapshot.Rows, r => Assert.Equal(JournalState.Accepted, r.State));
            Assert.Equal(emu.State.Ledger.Select(e => e.MessageId).OrderBy(i => i), snapshot.Rows.Select(r => r.MessageId).OrderBy(i => i));
            Assert.Equal(0, snapshot.UnreadableLines);
        }

        [Fact]
        public void AMissingJournalIsJournalNotFound()
        {
            var ex = Assert.Throws<NenException>(() => JournalReader.Read(Path.Combine(_dir, "no-such.jsonl")));

            Assert.Equal(NenErrorIds.JournalNotFound, ex.ErrorId);
            Assert.Equal(NenErrorCategory.ObjectNotFound, ex.Category);
            Assert.Contains("no-such.jsonl", ex.Message);
        }

        [Fact]
        public void OnlyAnAcceptedRowWithAMessageIdHasNoProblem()
        {
            JournalEntry Row(JournalState state, string? messageId = null, string? errorId = null) => new JournalEntry
            {
                Key = "col:7", State = state, WorkflowId = TestEmulator.EchoWorkflow, MessageId = messageId, IdempotencyKey = "nenai-abc", ErrorId = errorId,
            };

            Assert.Null(JournalRowProblem.Of(Row(JournalState.Accepted, "m-7")));

            NenException crashed = JournalRowProblem.Of(Row(JournalState.Submitting))!;
            Assert.Equal(NenErrorIds.PreviousOutcomeUnknown, crashed.ErrorId);
            Assert.Equal(NenErrorCategory.InvalidResult, crashed.Category);
            Assert.Contains("key '7'", crashed.Message);
            Assert.Contains("killed", crashed.Message);
            Assert.Contains("-RetryUnknown", crashed.Message);
            Assert.Contains("nenai-abc", crashed.Message);

            NenException unknown = JournalRowProblem.Of(Row(JournalState.Unknown, errorId: "NenTimeout"))!;
            Assert.Equal(NenErrorIds.PreviousOutcomeUnknown, unknown.ErrorId);
            Assert.Contains("NenTimeout", unknown.Message);

            NenException failed = JournalRowProblem.Of(Row(JournalState.Failed, errorId: "NenInvalidWorkflowParams"))!;
            Assert.Equal(NenErrorIds.RunNotStarted, failed.ErrorId);
            Assert.Equal(NenErrorCategory.ObjectNotFound, failed.Category);
            Assert.Contains("NenInvalidWorkflowParams", failed.Message);

            NenException damaged = JournalRowProblem.Of(Row(JournalState.Accepted))!;
            Assert.Equal(NenErrorIds.JournalCorrupt, damaged.ErrorId);
            Assert.Equal(NenErrorCategory.InvalidData, damaged.Category);
        }
    }
}
