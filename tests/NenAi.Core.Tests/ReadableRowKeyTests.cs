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
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// Issue 28: every row has a key a person can read, in one form: the -KeyProperty value, else "row 3". The journal
    /// records each row's number, so a run listed from it (a row-hash key) is named the same way; and a row whose
    /// earlier outcome is unknown is told with the commands that act on it.
    /// </summary>
    public sealed class ReadableRowKeyTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("nenai-rowkey-").FullName;

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        [Theory]
        [InlineData("col:2001", 7, "2001")]           // the -KeyProperty value, whatever the row's number
        [InlineData("col:row 9", 7, "row 9")]
        [InlineData(null, 3, "row 3")]                 // no key (no journal, no -KeyProperty): the row's number
        [InlineData("sha256:0123456789abcdef", 3, "row 3")]
        [InlineData("sha256:0123456789abcdef", 0, null)] // a journal written before rows were numbered
        [InlineData(null, 0, null)]                    // a run that came from no row
        public void TheReadableKeyIsTheColumnValueElseTheRowNumber(string? journalKey, int row, string? expected) =>
            Assert.Equal(expected, RowKey.Readable(journalKey, row));

        [Theory]
        [InlineData("row 3", "row 3")]
        [InlineData("2001", "key 2001")]
        [InlineData("row 3a", "key row 3a")]
        [InlineData("row ", "key row")]
        [InlineData(null, null)]
        public void ARunKnownOnlyByItsKeyIsNamedByIt(string? key, string? label) => Assert.Equal(label, RowLabel.ForKey(key));

        [Fact]
        public async Task TheJournalRecordsEachRowsNumberSoARowHashKeyedRunIsNamedByIt()
        {
            await using var emu = await TestEmulator.StartAsync();
            string path = Path.Combine(_dir, "numbers.jsonl");
            using (var journal = RunJournal.Open(path))
            using (var submitter = new BatchSubmitter(emu.Client(), 4, journal))
            {
                var factory = new RunRequestFactory(new RowMapper(null, null, false), keyed: true) { BatchId = journal.BatchId };
                IEnumerable<RunRequest> rows = Enumerable.Range(1, 5).Select(i =>
                {
                    RunRequest r = factory.Create(TestEmulator.EchoWorkflow, Requests.Cells(("NAME", "row " + i)), null, null);
                    r.Row = i;
                    return r;
                });
                await foreach (SubmissionOutcome o in submitter.SubmitAllAsync(rows)) Assert.Equal(SubmissionStatus.Accepted, o.Status);
            }

            JournalSnapshot snapshot = JournalReader.Read(path);
            Assert.Equal(5, snapshot.Rows.Count);
            Assert.All(snapshot.Rows, e => Assert.StartsWith("sha256:", e.Key));
            Assert.Equal(new[] { "row 1", "row 2", "row 3", "row 4", "row 5" }, snapshot.Rows.Select(e => RowKey.Readable(e.Key, e.Row)).OrderBy(k => k));
        }

        [Fact]
        public void AJournalLineWithoutARowNumberReadsAsRowZeroAndRoundTrips()
        {
            JournalLine old = JournalLine.Parse("{\"key\":\"col:1\",\"state\":\"Accepted\",\"messageId\":\"m\",\"at\":\"2025-01-02T03:04:05+00:00\"}");
            Assert.Equal(0, old.Entry!.Row);
            var entry = new JournalEntry { Key = "sha256:ab", State = JournalState.Accepted, MessageId = "m", Row = 12, At = DateTimeOffset.UnixEpoch };
            Assert.Equal(12, JournalLine.Parse(JournalLine.Serialize(entry)).Entry!.Row);
            Assert.DoesNotContain("\"row\"", JournalLine.Serialize(new JournalEntry { Key = "col:1", State = JournalState.Accepted }));
        }

        [Fact]
        public void ARowWhoseOutcomeIsUnknownIsToldWithTheCommandsThatActOnIt()
        {
            var row = new JournalEntry { Key = "sha256:0123456789abcdef0123", State = JournalState.Unknown, IdempotencyKey = "nenai-42", ErrorId = NenErrorIds.Timeout, Row = 3 };

            NenException problem = JournalRowProblem.Of(row, "/jobs/journals/jobs.jsonl")!;

            Assert.Equal(NenErrorIds.PreviousOutcomeUnknown, problem.ErrorId);
            Assert.StartsWith("The request for row 3 failed ambiguously", problem.Message);
            Assert.Contains("Nen Dashboard", problem.Message);
            Assert.Contains("Start-NenRun command again with -RetryUnknown", problem.Message);
            Assert.Contains("(nenai-42)", problem.Message);
            Assert.Contains("Get-NenRun -JournalPath '/jobs/journals/jobs.jsonl'", problem.Message);
            Assert.DoesNotContain("Check with Nen", problem.Message);
        }

        [Fact]
        public async Task ARerunSaysWhichCommandsActOnARowWhoseEarlierOutcomeIsUnknown()
        {
            await using var emu = await TestEmulator.StartAsync();
            string path = Path.Combine(_dir, "unknown.jsonl");
            using (var journal = RunJournal.Open(path))
            {
                RunRequest first = Requests.KeyedEcho(1, batchId: journal.BatchId);
                await journal.RecordSubmittingAsync(first.RowKey!, first.WorkflowId, first.IdempotencyKey, row: 1);
            }
            using (var journal = RunJournal.Open(path))
            using (var submitter = new BatchSubmitter(emu.Client(), 2, journal))
            {
                SubmissionOutcome o = Assert.Single(await Collect(submitter.SubmitAllAsync(new[] { Requests.KeyedEcho(1, batchId: journal.BatchId) })));
                Assert.Equal(SubmissionStatus.OutcomeUnknown, o.Status);
                Assert.Contains("-RetryUnknown", o.Error!.Message);
                Assert.Contains($"Get-NenRun -JournalPath '{journal.Path}'", o.Error.Message);
                Assert.DoesNotContain("Check it with Nen", o.Error.Message);
            }
            Assert.Empty(emu.State.Ledger);
        }

        private static async Task<List<SubmissionOutcome>> Collect(IAsyncEnumerable<SubmissionOutcome> outcomes)
        {
            var list = new List<SubmissionOutcome>();
            await foreach (SubmissionOutcome o in outcomes) list.Add(o);
            return list;
        }
    }
}
