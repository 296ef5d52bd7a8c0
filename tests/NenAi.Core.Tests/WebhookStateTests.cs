using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading.Tasks;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;
using NenAi.Core.Models;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Core.Webhooks;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// What a receiver acknowledges is safe: an update answered 200 is in the state file first, a restarted receiver
    /// writes what was acknowledged and not written (once), the backlog between the answer and the pipeline is bounded
    /// (503 with Retry-After beyond it), updates never go backwards across restarts, and memory and file stay bounded.
    /// </summary>
    public class WebhookStateTests
    {
        private const string Secret = "whsec-state";
        private static readonly TimeSpan Generous = TimeSpan.FromSeconds(20);
        private static readonly HttpClient Http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

        private static string NewStatePath() => Path.Combine(Path.GetTempPath(), "nenai-state-" + Guid.NewGuid().ToString("N"), "webhooks.jsonl");

        /// <summary>A receiver that waits for no runs (a service) on a ledger of the caller's.</summary>
        private sealed class Service : IDisposable
        {
            private readonly SecretValue _secret = TestEmulator.Secret(Secret);

            public Service(UpdateLedger ledger, bool includeInterim = false, int maxBacklog = WebhookReceiverOptions.DefaultMaxBacklog)
            {
                Url = WebhookTraffic.Prefix(WebhookTraffic.FreePort());
                Receiver = new WebhookReceiver(new WebhookReceiverOptions
                {
                    Listener = new WebhookListenerOptions { Prefixes = new[] { Url }, Secrets = new[] { _secret } },
                    IncludeInterim = includeInterim,
                    MaxBacklog = maxBacklog,
                }, null, ledger, Log);
                Receiver.Start(default);
            }

            public string Url { get; }
            public WebhookReceiver Receiver { get; }
            public CapturingLog Log { get; } = new CapturingLog();

            public Task<HttpStatusCode> PostAsync(string id, string status) => WebhookTraffic.PostSignedAsync(Url, Secret, id, status);

            public async Task<ReceivedItem> NextAsync() => await Receiver.TakeAsync(Generous) ?? throw new TimeoutException("Nothing was handed out.");

            /// <summary>Takes the next item and writes it, as the cmdlet does: then it is marked written.</summary>
            public async Task<ReceivedItem> WriteNextAsync()
            {
                ReceivedItem item = await NextAsync();
                Receiver.MarkHandled(item);
                return item;
            }

            public void Dispose()
            {
                Receiver.Dispose();
                _secret.Dispose();
            }
        }

        private static string[] ReadLines(string path)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }

        [Fact]
        public async Task AnUpdateIsInTheStateFileBeforeItsOkAndARestartWritesWhatWasAnsweredButNotWrittenOnce()
        {
            string path = NewStatePath();
            var ids = Enumerable.Range(0, 5).Select(i => "run-" + i).ToList();
            using (var ledger = UpdateLedger.Open(path))
            using (var first = new Service(ledger))
            {
                foreach (string id in ids)
                {
                    Assert.Equal(HttpStatusCode.OK, await first.PostAsync(id, "success"));
                    // Answered 200: its body is in the file already, before the pipeline has taken it.
                    Assert.Contains(ReadLines(path), l => l.Contains($"\"message_id\":\"{id}\"") && l.Contains("\"body\":"));
                }
                // The pipeline writes two of the five; then the receiver is gone (the process dies).
                Assert.Equal("run-0", (await first.WriteNextAsync()).MessageId);
                Assert.Equal("run-1", (await first.WriteNextAsync()).MessageId);
            }

            using (var reopened = UpdateLedger.Open(path))
            {
                Assert.Equal(new[] { "run-2", "run-3", "run-4" }, reopened.PendingUpdates().Select(p => p.MessageId));
                Assert.Equal(3, reopened.Unwritten);
                using var second = new Service(reopened);
                // Written first, in the order they were answered, each with the body that was received.
                for (int i = 2; i < 5; i++)
                {
                    ReceivedItem item = await second.WriteNextAsync();
                    Assert.Equal(ids[i], item.MessageId);
                    Assert.Equal(WebhookTraffic.Body(ids[i], "success"), item.Status!.RawJson);
                }
                Assert.Equal(3, second.Receiver.Counters.Recovered);
                // The sender never resends what got 200; a replay of any of the five is a duplicate now.
                foreach (string id in ids) Assert.Equal(HttpStatusCode.OK, await second.PostAsync(id, "success"));
                Assert.Null(await second.Receiver.TakeAsync(TimeSpan.FromMilliseconds(300)));
                Assert.Equal(5, second.Receiver.Counters.Duplicates);
            }

            using var third = UpdateLedger.Open(path);
            Assert.Empty(third.PendingUpdates());
            Assert.All(ids, id => Assert.True(third.FinishedBefore(id)));
        }

        [Fact]
        public async Task AnUnwrittenUpdateAnOlderVersionAcceptedWithAnIdThatIsNoIdIsDroppedNotWritten()
        {
            string path = NewStatePath();
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            string longId = new string('7', 5000);
            static string Line(string id, string body) =>
                System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["message_id"] = id, ["status"] = "success", ["received"] = "2026-01-02T03:04:05Z", ["body"] = body });
            File.WriteAllLines(path, new[]
            {
                Line(longId, WebhookTraffic.Body(longId, "success")),
                Line("../../etc/passwd", WebhookTraffic.Body("../../etc/passwd", "success")),
                Line("run-ok", WebhookTraffic.Body("run-ok", "success")),
            });

            using (var ledger = UpdateLedger.Open(path))
            using (var service = new Service(ledger))
            {
                Assert.Equal("run-ok", (await service.WriteNextAsync()).MessageId);
                Assert.Null(await service.Receiver.TakeAsync(TimeSpan.FromMilliseconds(300)));
                Assert.Equal(1, service.Receiver.Counters.Recovered);
            }
            using var reopened = UpdateLedger.Open(path);
            Assert.Empty(reopened.PendingUpdates());
        }

        [Fact]
        public async Task AnUnwrittenUpdateAnOlderVersionAcceptedThatIsNoUpdateNowIsWarnedOfNeverDroppedInSilence()
        {
            // An older receiver answered these 200 (its rule took any non-empty message_id and any status): its sender
            // never sends them again, so not writing them now is said, naming each run without echoing a huge id.
            string path = NewStatePath();
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            string longId = new string('7', 5000);
            static string Line(string id, string status, string body) =>
                System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["message_id"] = id, ["status"] = status, ["received"] = "2026-01-02T03:04:05Z", ["body"] = body });
            string longStatus = new string('s', 100);
            File.WriteAllLines(path, new[]
            {
                Line(longId, "success", WebhookTraffic.Body(longId, "success")),
                Line("run#2", "success", WebhookTraffic.Body("run#2", "success")),
                Line("run-3", longStatus, WebhookTraffic.Body("run-3", longStatus)),
                Line("run-ok", "success", WebhookTraffic.Body("run-ok", "success")),
            });

            using (var ledger = UpdateLedger.Open(path))
            using (var service = new Service(ledger))
            {
                Assert.Equal("run-ok", (await service.WriteNextAsync()).MessageId);
                string warning = Assert.Single(service.Log.Lines, l => l.StartsWith("WARNING: ", StringComparison.Ordinal) && l.Contains("state file"));
                Assert.Contains("3 update(s)", warning);
                Assert.Contains("'7777777777777777...'", warning);
                Assert.Contains("'run#2'", warning);
                Assert.Contains("'run-3'", warning);
                Assert.DoesNotContain(new string('7', 200), warning);
                Assert.DoesNotContain(longStatus, warning);
            }
        }

        [Fact]
        public async Task AFullBacklogIsAnswered503WithRetryAfterUntilThePipelineCatchesUp()
        {
            using var ledger = UpdateLedger.InMemory();
            using var service = new Service(ledger, maxBacklog: 3);
            for (int i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, await service.PostAsync("run-" + i, "success"));

            using HttpResponseMessage refused = await PostAsync(service.Url, "run-3", "success");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
            Assert.Equal(1, service.Receiver.Counters.BacklogFull);
            // A duplicate of what is waiting needs no room: 200.
            Assert.Equal(HttpStatusCode.OK, await service.PostAsync("run-0", "success"));

            await service.WriteNextAsync();
            // The sender's retry: now there is room, and it is taken.
            Assert.Equal(HttpStatusCode.OK, await service.PostAsync("run-3", "success"));
            var written = new List<string?>();
            for (int i = 0; i < 3; i++) written.Add((await service.WriteNextAsync()).MessageId);
            Assert.Equal(new[] { "run-1", "run-2", "run-3" }, written);
        }

        private static async Task<HttpResponseMessage> PostAsync(string url, string id, string status)
        {
            string body = WebhookTraffic.Body(id, status);
            var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.TryAddWithoutValidation("X-Hmac-Signature", WebhookTraffic.Sign(Secret, body));
            return await Http.SendAsync(request);
        }

        [Fact]
        public async Task ARestartedServiceWritesNothingOfARunItRecordedAsFinal()
        {
            string path = NewStatePath();
            using (var ledger = UpdateLedger.Open(path))
            using (var first = new Service(ledger, includeInterim: true))
            {
                Assert.Equal(HttpStatusCode.OK, await first.PostAsync("done-run", "success"));
                Assert.Equal("success", (await first.WriteNextAsync()).Status!.Status);
            }

            using var again = UpdateLedger.Open(path);
            using var restarted = new Service(again, includeInterim: true);
            // A late processing, a retried success, a contradicting failed: the run is final, none of them is written.
            Assert.Equal(HttpStatusCode.OK, await restarted.PostAsync("done-run", "processing"));
            Assert.Equal(HttpStatusCode.OK, await restarted.PostAsync("done-run", "success"));
            Assert.Equal(HttpStatusCode.OK, await restarted.PostAsync("done-run", "failed"));
            Assert.Equal(HttpStatusCode.OK, await restarted.PostAsync("other-run", "processing"));

            ReceivedItem item = await restarted.NextAsync();
            Assert.Equal("other-run", item.MessageId);
            Assert.Null(await restarted.Receiver.TakeAsync(TimeSpan.FromMilliseconds(300)));
            Assert.Equal(1, restarted.Receiver.Counters.Duplicates);
            Assert.Equal(2, restarted.Receiver.Counters.Ignored);
        }

        [Fact]
        public async Task AStateFileLeftOnlyAsItsCompactedCopyIsReadFromIt()
        {
            // On Windows a replacement held up by a scanner (1176/1177) leaves the old file gone from its name and the
            // new, flushed one under '.compact'. Before: a restart deleted the '.compact' file and began with an empty
            // state, so a run recorded as final was written again.
            string path = NewStatePath();
            using (var ledger = UpdateLedger.Open(path))
            using (var first = new Service(ledger, includeInterim: true))
            {
                Assert.Equal(HttpStatusCode.OK, await first.PostAsync("done-run", "success"));
                Assert.Equal("success", (await first.WriteNextAsync()).Status!.Status);
            }
            File.Move(path, path + ".compact");

            using var again = UpdateLedger.Open(path);
            using var restarted = new Service(again, includeInterim: true);
            Assert.Equal(HttpStatusCode.OK, await restarted.PostAsync("done-run", "success"));
            Assert.Equal(HttpStatusCode.OK, await restarted.PostAsync("other-run", "processing"));

            Assert.Equal("other-run", (await restarted.NextAsync()).MessageId);
            Assert.False(File.Exists(path + ".compact"));
        }

        [Fact]
        public async Task AWaitingReceiverWritesAFinalUpdateItsPredecessorAcknowledgedWithoutAnyRequest()
        {
            string path = NewStatePath();
            using (var ledger = UpdateLedger.Open(path))
            using (var service = new Service(ledger))
            {
                Assert.Equal(HttpStatusCode.OK, await service.PostAsync("acked-run", "failed"));
            }

            await using TestEmulator emulator = await TestEmulator.StartAsync();
            using var restartedLedger = UpdateLedger.Open(path);
            using SecretValue secret = TestEmulator.Secret(Secret);
            using var receiver = new WebhookReceiver(new WebhookReceiverOptions
            {
                Listener = new WebhookListenerOptions { Prefixes = new[] { WebhookTraffic.Prefix(WebhookTraffic.FreePort()) }, Secrets = new[] { secret } },
                WaitForRuns = true,
                FallbackAfter = TimeSpan.FromSeconds(30),
            }, emulator.Client(), restartedLedger);
            receiver.Start(default);
            Assert.Equal(WebhookReceiver.AddResult.Added, receiver.Add("acked-run", "its row"));
            receiver.CompleteAdding();

            ReceivedItem item = await receiver.TakeAsync(Generous) ?? throw new TimeoutException();
            Assert.Equal(ReceivedItemKind.Update, item.Kind);
            Assert.Equal("failed", item.Status!.Status);
            Assert.Equal("its row", item.Tag);
            Assert.False(item.ByPolling);
            receiver.MarkHandled(item);
            Assert.Equal(0, emulator.State.GetRuns);
            Assert.True(restartedLedger.FinishedBefore("acked-run"));
            Assert.Equal(0, restartedLedger.Unwritten);
        }

        [Fact]
        public async Task MemoryAndTheStateFileStayBoundedAndARestartReadsOnlyWhatIsRemembered()
        {
            string path = NewStatePath();
            const int remembered = 200, runs = 6_000;
            const long slack = 16 * 1024; // (1 MiB by default: small here, so a few thousand runs compact many times)
            using (var ledger = UpdateLedger.Open(path, remembered, slack))
            {
                for (int i = 0; i < runs; i++)
                {
                    string id = "run-" + i;
                    Assert.Equal(UpdateLedger.ClaimResult.New, ledger.Claim(id, "success"));
                    await ledger.RecordReceived(Snapshot(id, "success"));
                    ledger.RecordWritten(id, "success");
                    Assert.InRange(ledger.RememberedRuns, 1, remembered);
                }
                Assert.True(await Eventually.TrueAsync(() => !ledger.Compacting), "a compaction never ended");
                Assert.True(ledger.Compactions >= 10, $"{ledger.Compactions} compactions");
                Assert.Equal(runs - remembered, ledger.ForgottenRuns);
            }

            // Bounded by what is remembered, not by the 6,000 runs (12,000 lines) recorded: about 200 lines once compacted,
            // and never more than twice that (in bytes) plus the slack.
            // (A line is 80-90 bytes, its time's digits vary: the lower bound counts lines, one for each remembered run.)
            Assert.InRange(File.ReadLines(path).Count(), remembered, int.MaxValue);
            Assert.InRange(new FileInfo(path).Length, remembered * 70, 2 * remembered * 120 + slack + 4096);
            using var reopened = UpdateLedger.Open(path, remembered);
            Assert.Equal(remembered, reopened.LoadedCount);
            Assert.True(reopened.FinishedBefore("run-" + (runs - 1)));
            Assert.True(reopened.FinishedBefore("run-" + (runs - remembered)));
            // Forgotten, as documented: the oldest runs count as new.
            Assert.False(reopened.FinishedBefore("run-0"));
            Assert.Equal(UpdateLedger.ClaimResult.New, reopened.Claim("run-0", "success"));
        }

        [Fact]
        public async Task MoreUnwrittenUpdatesThanRunsRememberedAreAllKeptThroughACompaction()
        {
            // -MaximumRememberedRuns 100 with the default backlog of 10,000 and a slow pipeline: once every run remembered
            // has an update to write, a new run was the one forgotten (the others went to the back of the line, behind it),
            // so its update, answered 200, was left out of the next compaction and lost by a restart.
            string path = NewStatePath();
            const int remembered = 10, unwritten = 30;
            using (var ledger = UpdateLedger.Open(path, remembered, compactionSlackBytes: 1))
            {
                for (int i = 0; i < unwritten; i++)
                {
                    Assert.Equal(UpdateLedger.ClaimResult.New, ledger.Claim("kept-" + i, "success"));
                    await ledger.RecordReceived(Snapshot("kept-" + i, "success"));
                    Assert.Equal(UpdateLedger.ClaimResult.Duplicate, ledger.Claim("kept-" + i, "success"));
                }
                Assert.True(await Eventually.TrueAsync(() => ledger.Compactions > 0 && !ledger.Compacting), "no compaction ended");
                Assert.Equal(unwritten, ledger.Unwritten);
            }

            using var reopened = UpdateLedger.Open(path, remembered);
            Assert.Equal(Enumerable.Range(0, unwritten).Select(i => "kept-" + i), reopened.PendingUpdates().Select(p => p.MessageId));
        }

        [Fact]
        public async Task ACompactionKeepsEveryUnwrittenUpdateWithItsBodyAndNeverForgetsItsRun()
        {
            string path = NewStatePath();
            const int remembered = 100;
            using (var ledger = UpdateLedger.Open(path, remembered, compactionSlackBytes: 16 * 1024))
            {
                // Twenty updates answered and never written, then many more runs written: far past the limit.
                for (int i = 0; i < 20; i++)
                {
                    ledger.Claim("kept-" + i, "success");
                    await ledger.RecordReceived(Snapshot("kept-" + i, "success"));
                }
                for (int i = 0; i < 5_000; i++)
                {
                    ledger.Claim("run-" + i, "success");
                    await ledger.RecordReceived(Snapshot("run-" + i, "success"));
                    ledger.RecordWritten("run-" + i, "success");
                }
                Assert.True(await Eventually.TrueAsync(() => ledger.Compactions > 0));
                Assert.Equal(20, ledger.Unwritten);
            }

            using var reopened = UpdateLedger.Open(path, remembered);
            IReadOnlyList<UpdateLedger.PendingUpdate> pending = reopened.PendingUpdates();
            Assert.Equal(Enumerable.Range(0, 20).Select(i => "kept-" + i), pending.Select(p => p.MessageId));
            Assert.All(pending, p => Assert.Equal(WebhookTraffic.Body(p.MessageId, "success"), p.Body));
            Assert.Equal(UpdateLedger.ClaimResult.Duplicate, reopened.Claim("kept-0", "success"));
        }

        [Fact]
        public void AFileFromBeforeBodiesWereKeptReadsAsWrittenAndAFileFarLargerThanItsContentIsCompactedOnOpening()
        {
            string path = NewStatePath();
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var old = new StringBuilder();
            for (int i = 0; i < 3_000; i++) old.Append("{\"message_id\":\"run-").Append(i % 10).Append("\",\"status\":\"success\",\"at\":\"2026-01-01T00:00:00Z\"}\n");
            File.WriteAllText(path, old.ToString());

            using var ledger = UpdateLedger.Open(path);

            Assert.Equal(10, ledger.LoadedCount);
            Assert.True(ledger.FinishedBefore("RUN-3"));
            Assert.True(Eventually.True(() => ledger.Compactions == 1));
            Assert.Equal(10, ReadLines(path).Length);
        }

        [TmpfsFact]
        public async Task AStateFileThatCannotBeWrittenIsAnswered500AndStopsTheReceiver()
        {
            using TmpfsMount disk = TmpfsMount.Create(64);
            using var ledger = UpdateLedger.Open(Path.Combine(disk.Path, "webhooks.jsonl"));
            using var service = new Service(ledger);
            Assert.Equal(HttpStatusCode.OK, await service.PostAsync("before", "success"));
            Assert.Equal("before", (await service.WriteNextAsync()).MessageId);
            disk.Fill();

            // The file's last page may still take a few lines; then a line that does not fit is not on the disk, so it
            // is not acknowledged (the sender sends it again later), and every update answered 200 before is in the file.
            var acknowledged = new List<string>();
            HttpStatusCode answer = HttpStatusCode.OK;
            for (int i = 0; i < 100 && answer == HttpStatusCode.OK; i++)
            {
                answer = await service.PostAsync("after-" + i, "success");
                if (answer == HttpStatusCode.OK) acknowledged.Add("after-" + i);
            }
            Assert.Equal(HttpStatusCode.InternalServerError, answer);
            string[] lines = ReadLines(Path.Combine(disk.Path, "webhooks.jsonl"));
            Assert.All(acknowledged, id => Assert.Contains(lines, l => l.Contains($"\"message_id\":\"{id}\"") && l.EndsWith("}")));
            for (int i = 0; i < acknowledged.Count; i++) Assert.Equal(ReceivedItemKind.Update, (await service.NextAsync()).Kind);

            ReceivedItem item = await service.NextAsync();
            Assert.Equal(ReceivedItemKind.Error, item.Kind);
            Assert.True(item.StopsReceiver);
            Assert.Equal(NenErrorIds.WebhookStateWriteFailed, item.Error!.ErrorId);
            // Nothing more is acknowledged; the caller ends with the error (the cmdlet stops the receiver).
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await service.PostAsync("later", "success"));
        }

        private static RunSnapshot Snapshot(string id, string status) =>
            RunSnapshot.Parse(WebhookTraffic.Body(id, status), null, DateTimeOffset.UtcNow);

    }
}
