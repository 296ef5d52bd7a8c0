using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Tasks;
using NenAi.Core.Batch;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Journal;
using NenAi.Core.Models;
using NenAi.Core.Rows;
using NenAi.Core.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// A row whose key the journal records as sent, but whose values now differ, is not taken for the run it started
    /// then (nor resent with that request's Idempotency-Key): it is its own NenRowChangedSinceSent error, counted as
    /// changed since sent. The journal keeps a keyed digest of what was sent, never a value (secure values not even as a
    /// digest). Journals written before the digest keep today's rule; rows the service refused are sent again once fixed.
    /// (Acceptance: day two of the nightly recipe with JobId 1001's AMOUNT changed said "1 accepted, 3 already accepted",
    /// no error, and exported yesterday's files as today's.)
    /// </summary>
    public sealed class ChangedRowTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("nenai-changed-").FullName;

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        private string JournalPath => Path.Combine(_dir, "jobs.jsonl");

        /// <summary>The nightly recipe's rows: -KeyProperty JobId -ExcludeProperty JobId.</summary>
        private static RunRequestFactory Factory(string batchId, IReadOnlyList<KeyValuePair<string, SecretValue>>? secure = null, RowMapper? mapper = null)
        {
            var factory = new RunRequestFactory(mapper ?? new RowMapper(excludedColumns: new[] { "JobId" }), secure, keyProperty: "JobId", keyed: true);
            factory.BatchId = batchId;
            return factory;
        }

        private static List<KeyValuePair<string, object?>> Job(int id, string amount, string name = "Ada Lovelace") =>
            Requests.Cells(("JobId", id), ("NAME", name), ("AMOUNT", amount));

        /// <summary>One night: the rows through a journal (opened, used, closed), every outcome by its row's key.</summary>
        private async Task<Dictionary<string, SubmissionOutcome>> Night(NenApiClient client, IEnumerable<List<KeyValuePair<string, object?>>> rows, string workflow = TestEmulator.EchoWorkflow, bool retryUnknown = false, RowMapper? mapper = null,
            IEnumerable<KeyValuePair<string, object?>>? explicitParameters = null)
        {
            using var journal = RunJournal.Open(JournalPath);
            RunRequestFactory factory = Factory(journal.BatchId, mapper: mapper);
            using var submitter = new BatchSubmitter(client, 4, journal, retryUnknown);
            var outcomes = new Dictionary<string, SubmissionOutcome>();
            await foreach (SubmissionOutcome o in submitter.SubmitAllAsync(rows.Select(r => factory.Create(workflow, r, explicitParameters, r))))
                outcomes[o.Request.RowKey!] = o;
            return outcomes;
        }

        [Fact]
        public async Task ARowWhoseValuesChangedIsItsOwnErrorNotItsEarlierRunAndNothingIsSent()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            await Night(client, new[] { Job(1001, "120.50"), Job(1002, "75"), Job(1003, "0") });
            int sent = emu.State.PostRuns;

            Dictionary<string, SubmissionOutcome> dayTwo = await Night(client, new[] { Job(1001, "999"), Job(1002, "75"), Job(1003, "0") });

            // Before: AlreadyAccepted, with day one's run.
            SubmissionOutcome changed = dayTwo["col:1001"];
            Assert.Equal(SubmissionStatus.ChangedSinceSent, changed.Status);
            Assert.Null(changed.Run);
            Assert.Equal((NenErrorIds.RowChangedSinceSent, NenErrorCategory.InvalidData), (changed.Error!.ErrorId, changed.Error.Category));
            Assert.Contains("key '1001'", changed.Error.Message);
            Assert.Contains("the value of at least one of its parameters is not the one sent then", changed.Error.Message);
            Assert.Contains("give it a new key", changed.Error.Message);
            Assert.Contains("new batch with another -JournalPath", changed.Error.Message);
            foreach (string value in new[] { "999", "120.50", "v1." }) Assert.DoesNotContain(value, changed.Error.Message);
            Assert.Equal(SubmissionStatus.AlreadyAccepted, dayTwo["col:1002"].Status);
            Assert.Equal(SubmissionStatus.AlreadyAccepted, dayTwo["col:1003"].Status);
            Assert.Equal(sent, emu.State.PostRuns);

            // The journal still holds the run day one started for 1001: the row put back as it was is that run again.
            Dictionary<string, SubmissionOutcome> putBack = await Night(client, new[] { Job(1001, "120.50") });
            Assert.Equal(SubmissionStatus.AlreadyAccepted, putBack["col:1001"].Status);
        }

        [Fact]
        public async Task WhatDiffersIsSaidInGeneralTermsAParameterAddedOrAnotherWorkflow()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            await Night(client, new[] { Job(1001, "120.50"), Job(1002, "75") });

            var added = Job(1001, "120.50");
            added.Add(new KeyValuePair<string, object?>("RUSH", "true"));
            Dictionary<string, SubmissionOutcome> dayTwo = await Night(client, new[] { added });
            Dictionary<string, SubmissionOutcome> routed = await Night(client, new[] { Job(1002, "75") }, TestEmulator.FilesWorkflow);

            Assert.Contains("a column added, removed or renamed", dayTwo["col:1001"].Error!.Message);
            Assert.Contains($"it now names workflow '{TestEmulator.FilesWorkflow}', not '{TestEmulator.EchoWorkflow}'", routed["col:1002"].Error!.Message);
        }

        [Fact]
        public async Task ParametersNotThoseSentThenNameTheCommandsChoiceOfColumnsAsWellAsTheInput()
        {
            // The same CSV both nights; on day two the command leaves out NAME (-ExcludeProperty), or a value now empty
            // is left out (-OmitEmptyValue). Before: "a column added, removed or renamed", which the file has not had.
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            await Night(client, new[] { Job(1001, "120.50"), Job(1002, "75") });

            Dictionary<string, SubmissionOutcome> excluded = await Night(client, new[] { Job(1001, "120.50") }, mapper: new RowMapper(excludedColumns: new[] { "JobId", "NAME" }));
            Dictionary<string, SubmissionOutcome> emptied = await Night(client, new[] { Job(1002, "75", name: "") }, mapper: new RowMapper(excludedColumns: new[] { "JobId" }, omitEmptyValues: true));

            foreach (SubmissionOutcome changed in new[] { excluded["col:1001"], emptied["col:1002"] })
            {
                Assert.Equal(SubmissionStatus.ChangedSinceSent, changed.Status);
                Assert.Contains("it is now sent with other parameters than then", changed.Error!.Message);
                Assert.Contains("a column added, removed or renamed", changed.Error.Message);
                Assert.Contains("-Property or -ExcludeProperty", changed.Error.Message);
                Assert.Contains("-OmitEmptyValue", changed.Error.Message);
            }
        }

        [Fact]
        public async Task AnotherParameterValueIsTheCommandsNotAChangedRowButAnotherRowValueStillIs()
        {
            // -Parameter @{ RunDate = (Get-Date) }: a re-run after a crash gives every row another RunDate. Before: every row
            // the first run had sent was NenRowChangedSinceSent, and its run was not passed on to Wait-NenRun.
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            KeyValuePair<string, object?>[] Day(string date) => new[] { new KeyValuePair<string, object?>("RunDate", date) };
            await Night(client, new[] { Job(1001, "120.50"), Job(1002, "75") }, explicitParameters: Day("2026-12-06T23:55:00"));
            int sent = emu.State.Ledger.Count;

            Dictionary<string, SubmissionOutcome> rerun = await Night(client, new[] { Job(1001, "120.50"), Job(1002, "999") }, explicitParameters: Day("2026-12-07T00:05:00"));

            Assert.Equal(SubmissionStatus.AlreadyAccepted, rerun["col:1001"].Status);
            Assert.Equal(SubmissionStatus.ChangedSinceSent, rerun["col:1002"].Status);
            Assert.Equal(sent, emu.State.Ledger.Count);
        }

        [Fact]
        public async Task ARowTheServiceRefusedIsSentAgainOnceFixedAndIsThenAlreadyAccepted()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            var refused = Requests.Cells(("JobId", 1005), ("NAME", "Edsger Dijkstra"), ("COUNT", "not a number"));
            Assert.Equal(SubmissionStatus.Failed, (await Night(client, new[] { refused }))["col:1005"].Status);

            var fixedRow = Requests.Cells(("JobId", 1005), ("NAME", "Edsger Dijkstra"), ("COUNT", 5));
            Assert.Equal(SubmissionStatus.Accepted, (await Night(client, new[] { fixedRow }))["col:1005"].Status);
            Assert.Equal(SubmissionStatus.AlreadyAccepted, (await Night(client, new[] { fixedRow }))["col:1005"].Status);
        }

        [Fact]
        public async Task ARowOfUnknownOutcomeWhoseValuesChangedIsNotResentWithItsEarlierIdempotencyKey()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            // A batch that died while row 1001 was on the wire: its last line is Submitting, with what was sent.
            using (var journal = RunJournal.Open(JournalPath))
            {
                RunRequest before = Factory(journal.BatchId).Create(TestEmulator.EchoWorkflow, Job(1001, "120.50"), null, null);
                await journal.RecordSubmittingAsync(before.RowKey!, before.WorkflowId, before.IdempotencyKey, 1, before.ValuesFingerprint);
            }

            SubmissionOutcome changed = (await Night(client, new[] { Job(1001, "999") }, retryUnknown: true))["col:1001"];
            Assert.Equal(SubmissionStatus.ChangedSinceSent, changed.Status);
            Assert.Contains("unknown outcome", changed.Error!.Message);
            Assert.Equal(0, emu.State.PostRuns);

            // The same values: resent with the earlier key, as -RetryUnknown always did.
            Assert.Equal(SubmissionStatus.Accepted, (await Night(client, new[] { Job(1001, "120.50") }, retryUnknown: true))["col:1001"].Status);
            Assert.Equal(1, emu.State.PostRuns);
        }

        [Fact]
        public void AJournalWrittenBeforeFingerprintsKeepsTodaysRule()
        {
            File.WriteAllText(JournalPath, "{\"batchId\":\"old\"}\n{\"key\":\"col:1001\",\"state\":\"Accepted\",\"workflowId\":\"" + TestEmulator.EchoWorkflow + "\",\"messageId\":\"m-1\",\"idempotencyKey\":\"k\",\"row\":1}\n");
            using var journal = RunJournal.Open(JournalPath);
            RunRequest now = Factory(journal.BatchId).Create(TestEmulator.EchoWorkflow, Job(1001, "999"), null, null);

            Assert.NotNull(now.ValuesFingerprint);
            Assert.Equal(JournalDecision.AlreadyAccepted, journal.Decide(now.RowKey!, retryUnknown: false, now.ValuesFingerprint));
        }

        [Fact]
        public void TheFingerprintIsKeyedByTheBatchIgnoresOrderAndSecureValuesAndTheJournalHoldsNoValue()
        {
            using SecretValue one = TestEmulator.Secret("canary-password-1"), two = TestEmulator.Secret("canary-password-2");
            RunRequest Make(string batch, SecretValue secret, List<KeyValuePair<string, object?>> row) =>
                Factory(batch, new[] { new KeyValuePair<string, SecretValue>("password", secret) }).Create(TestEmulator.EchoWorkflow, row, null, null);
            var reordered = Requests.Cells(("AMOUNT", "120.50"), ("NAME", "Ada Lovelace"), ("JobId", 1001));

            string sent = Make("batch-a", one, Job(1001, "120.50")).ValuesFingerprint!;

            Assert.Equal(sent, Make("batch-a", two, reordered).ValuesFingerprint); // another secure value, cells in another order: the same row
            Assert.NotEqual(sent, Make("batch-b", one, Job(1001, "120.50")).ValuesFingerprint); // another batch: another digest
            Assert.NotEqual(sent, Make("batch-a", one, Job(1001, "999")).ValuesFingerprint);
            Assert.Matches("^v1\\.[0-9a-f]{16}\\.[0-9a-f]{32}$", sent);
            Assert.Equal(RowChange.Values, RowFingerprint.Compare(sent, Make("batch-a", one, Job(1001, "999")).ValuesFingerprint));
            Assert.Null(RowFingerprint.Compare(null, sent));
            Assert.Null(RowFingerprint.Compare("v2.x.y", sent)); // a later version's digest is not judged

            // What the journal line holds: the digest, no value, nothing of the secure value (nor its SHA-256).
            string line = JournalLine.Serialize(new JournalEntry { Key = "col:1001", State = JournalState.Accepted, MessageId = "m", Fingerprint = sent, At = DateTimeOffset.UtcNow });
            Assert.Equal(sent, JournalLine.Parse(line).Entry!.Fingerprint);
            string secretHash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("canary-password-1"))).ToLowerInvariant();
            foreach (string leaked in new[] { "120.50", "Ada Lovelace", "canary-password-1", secretHash }) Assert.DoesNotContain(leaked, line);
        }
    }
}
