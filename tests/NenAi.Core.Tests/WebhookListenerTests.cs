using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading.Tasks;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Core.Webhooks;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// The receiver's HTTP side over real loopback connections: what each kind of request is answered, that no
    /// client (slow, stalled, huge, hostile) holds up another delivery, and that stopping frees the port at once.
    /// These run a receiver that waits for no runs (a service), so no API is involved.
    /// </summary>
    public class WebhookListenerTests
    {
        private const string Secret = "whsec-listener";
        private static readonly TimeSpan Generous = TimeSpan.FromSeconds(20);

        private sealed class Service : IDisposable
        {
            public Service(Action<WebhookListenerOptions>? configure = null, int? port = null, bool includeInterim = false, UpdateLedger? ledger = null, params string[] secrets)
            {
                Port = port ?? WebhookTraffic.FreePort();
                Url = WebhookTraffic.Prefix(Port);
                Secrets = (secrets.Length == 0 ? new[] { Secret } : secrets).Select(TestEmulator.Secret).ToList();
                var listener = new WebhookListenerOptions { Prefixes = new[] { Url }, Secrets = Secrets };
                configure?.Invoke(listener);
                Receiver = new WebhookReceiver(new WebhookReceiverOptions { Listener = listener, IncludeInterim = includeInterim }, null, ledger ?? UpdateLedger.InMemory(), Log);
                Receiver.Start(default);
            }

            public int Port { get; }
            public string Url { get; }
            public List<SecretValue> Secrets { get; }
            public CapturingLog Log { get; } = new CapturingLog();
            public WebhookReceiver Receiver { get; }

            public async Task<ReceivedItem> NextAsync()
            {
                ReceivedItem? item = await Receiver.TakeAsync(Generous);
                return item ?? throw new TimeoutException("Nothing was handed out.");
            }

            public List<ReceivedItem> TakeAll()
            {
                var items = new List<ReceivedItem>();
                while (Receiver.TryTake(out ReceivedItem? item)) items.Add(item!);
                return items;
            }

            public void Dispose()
            {
                Receiver.Dispose();
                foreach (SecretValue s in Secrets) s.Dispose();
            }
        }

        [Fact]
        public async Task AVerifiedUpdateIsAnswered200AndHandedOutOnceHoweverOftenItIsDelivered()
        {
            using var service = new Service();
            string id = Guid.NewGuid().ToString();

            var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => WebhookTraffic.PostSignedAsync(service.Url, Secret, id, "success")));

            Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a));
            ReceivedItem item = await service.NextAsync();
            Assert.Equal(ReceivedItemKind.Update, item.Kind);
            Assert.Equal(id, item.Status!.MessageId);
            Assert.Equal("success", item.Status.Status);
            Assert.Empty(service.TakeAll());
            Assert.Equal(8, service.Receiver.Counters.Accepted);
            Assert.Equal(7, service.Receiver.Counters.Duplicates);
        }

        [Fact]
        public async Task InterimUpdatesAreHandedOutOnlyWhenAskedForAndNeverAfterTheFinalOne()
        {
            using var quiet = new Service();
            using var chatty = new Service(includeInterim: true);
            string a = Guid.NewGuid().ToString(), b = Guid.NewGuid().ToString();
            foreach (Service s in new[] { quiet, chatty })
            {
                Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(s.Url, Secret, a, "processing"));
                Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(s.Url, Secret, a, "success"));
                Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(s.Url, Secret, b, "failed"));
                Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(s.Url, Secret, b, "processing")); // reordered: stale
            }

            Assert.Equal(new[] { $"{a} success", $"{b} failed" }, await Take(quiet, 2));
            Assert.Equal(new[] { $"{a} processing", $"{a} success", $"{b} failed" }, await Take(chatty, 3));
            Assert.Equal(1, chatty.Receiver.Counters.Ignored);
        }

        private static async Task<List<string>> Take(Service service, int count)
        {
            var taken = new List<string>();
            for (int i = 0; i < count; i++)
            {
                ReceivedItem item = await service.NextAsync();
                taken.Add($"{item.Status!.MessageId} {item.Status.Status}");
            }
            Assert.Empty(service.TakeAll());
            return taken;
        }

        [Fact]
        public async Task EverySecretOfARotationVerifies()
        {
            using var service = new Service(secrets: new[] { "whsec-old", Secret });

            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(service.Url, "whsec-old", "run-old", "success"));
            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(service.Url, Secret, "run-new", "success"));
            Assert.Equal(HttpStatusCode.Unauthorized, await WebhookTraffic.PostSignedAsync(service.Url, "whsec-other", "run-other", "success"));
        }

        [Fact]
        public async Task UnsignedWronglySignedAndTamperedPostsGet401AndHandOutNothing()
        {
            using var service = new Service();
            string body = WebhookTraffic.Body("forged", "success");

            Assert.Equal(HttpStatusCode.Unauthorized, await WebhookTraffic.PostAsync(service.Url, body, null));
            Assert.Equal(HttpStatusCode.Unauthorized, await WebhookTraffic.PostAsync(service.Url, body, WebhookTraffic.Sign("whsec-wrong", body)));
            Assert.Equal(HttpStatusCode.Unauthorized, await WebhookTraffic.PostAsync(service.Url, body.Replace("success", "failed"), WebhookTraffic.Sign(Secret, body)));
            Assert.Equal(HttpStatusCode.Unauthorized, await WebhookTraffic.PostAsync(service.Url, body, "sha256=00"));
            // Still listening, and a real delivery after the forged ones is the first thing handed out.
            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(service.Url, Secret, "real", "success"));

            ReceivedItem item = await service.NextAsync();
            Assert.Equal("real", item.Status!.MessageId);
            Assert.Equal(4, service.Receiver.Counters.Refused);
            // One warning says what to check; each refusal is a verbose line; no line shows a signature.
            Assert.Single(service.Log.Lines, l => l.StartsWith("WARNING:") && l.Contains("check the webhook secret"));
            Assert.Equal(4, service.Log.Lines.Count(l => l.StartsWith("VERBOSE: Refused")));
            Assert.DoesNotContain(service.Log.Lines, l => l.Contains(WebhookTraffic.Sign(Secret, body).Substring(7)));
        }

        [Fact]
        public async Task ASignedBodyThatIsNotARunStatusGets400AndIsOneError()
        {
            using var service = new Service();
            const string body = "{\"status\":\"success\"}";

            Assert.Equal(HttpStatusCode.BadRequest, await WebhookTraffic.PostAsync(service.Url, body, WebhookTraffic.Sign(Secret, body)));
            Assert.Equal(HttpStatusCode.BadRequest, await WebhookTraffic.PostAsync(service.Url, "not json", WebhookTraffic.Sign(Secret, "not json")));

            ReceivedItem item = await service.NextAsync();
            Assert.Equal(ReceivedItemKind.Error, item.Kind);
            Assert.Equal(NenErrorIds.UnexpectedResponse, item.Error!.ErrorId);
            Assert.Equal(2, service.Receiver.Counters.Malformed);
        }

        [Fact]
        public async Task TheFinalStatusesOfSection11AreFinalHereAndAnUnknownOneIsWarnedOfOncePerRunAndStatusNeverDropped()
        {
            using var service = new Service();
            string a = Guid.NewGuid().ToString(), b = Guid.NewGuid().ToString();
            var finals = new[] { "Timeout", "cancelled", "canceled", "COMPLETED", "failed" };
            var ids = finals.Select(_ => Guid.NewGuid().ToString()).ToArray();

            // An unknown status, delivered again and in another case: a run still going, one warning per run and status.
            foreach (string status in new[] { "exploded", "exploded", "EXPLODED" })
                Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(service.Url, Secret, a, status));
            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(service.Url, Secret, b, "exploded"));
            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(service.Url, Secret, a, "vanished"));
            for (int i = 0; i < finals.Length; i++)
                Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(service.Url, Secret, ids[i], finals[i]));
            // Still running, so its final status is taken after it.
            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(service.Url, Secret, a, "success"));

            var taken = await Take(service, finals.Length + 1);
            Assert.Equal(finals.Select((f, i) => $"{ids[i]} {f}").Append($"{a} success"), taken);
            string[] warnings = service.Log.Lines.Where(l => l.StartsWith("WARNING:")).ToArray();
            Assert.Equal(3, warnings.Length);
            Assert.Single(warnings, w => w.Contains($"Run {a}") && w.Contains("'exploded'") && w.Contains("treated as still running"));
            Assert.Single(warnings, w => w.Contains($"Run {b}") && w.Contains("'exploded'"));
            Assert.Single(warnings, w => w.Contains($"Run {a}") && w.Contains("'vanished'"));
            Assert.All(warnings, w => Assert.Contains("-IncludeProcessing", w));
            Assert.Equal(3, service.Receiver.Counters.UnknownStatuses);
        }

        [Fact]
        public async Task WithInterimUpdatesAnUnknownStatusIsWrittenAsItCameAndWarnedOf()
        {
            using var service = new Service(includeInterim: true);
            string id = Guid.NewGuid().ToString();

            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(service.Url, Secret, id, "Exploded"));

            Assert.Equal(new[] { $"{id} Exploded" }, await Take(service, 1));
            Assert.Single(service.Log.Lines, l => l.StartsWith("WARNING:") && l.Contains($"Run {id}") && l.Contains("'Exploded'") && l.Contains("written as it came"));
        }

        public static TheoryData<string, string> NotRunUpdates() => new TheoryData<string, string>
        {
            { "{\"workflow_id\":\"w\",\"message_id\":\"eeeeeeee-0000-4000-8000-000000000003\",\"status\":null,\"expires_at\":1730319600}", "its status is null" },
            { "{\"workflow_id\":\"w\",\"message_id\":\"eeeeeeee-0000-4000-8000-000000000003\",\"expires_at\":1730319600}", "it has no status" },
            { "{\"message_id\":\"eeeeeeee-0000-4000-8000-000000000003\",\"status\":42}", "its status is a number" },
            { "{\"message_id\":\"eeeeeeee-0000-4000-8000-000000000003\",\"status\":\"  \"}", "its status is empty" },
            { "{\"message_id\":\"eeeeeeee-0000-4000-8000-000000000003\",\"status\":\"" + new string('s', 65) + "\"}", "65 characters long" },
            { "{\"message_id\":12345,\"status\":\"success\"}", "its message_id is a number" },
            { "{\"message_id\":null,\"status\":\"success\"}", "its message_id is null" },
            { "{\"message_id\":\"../../../etc/passwd\",\"status\":\"success\"}", "would change the request's path" },
            { "{\"message_id\":\"a\\u0001b\",\"status\":\"success\"}", "control characters" },
            { "{\"message_id\":\"" + new string('7', 100_000) + "\",\"status\":\"success\"}", "100000 characters long" },
            { "[1,2]", "not a JSON object" },
        };

        [Theory]
        [MemberData(nameof(NotRunUpdates))]
        public async Task ASignedBodyThatIsNotARunUpdateGets400IsOneErrorNamingWhyAndIsNeverStored(string body, string why)
        {
            string dir = System.IO.Directory.CreateTempSubdirectory("nenai-notupdate-").FullName;
            string state = System.IO.Path.Combine(dir, "state.json");
            try
            {
                using (var service = new Service(ledger: UpdateLedger.Open(state)))
                {
                    Assert.Equal(HttpStatusCode.BadRequest, await WebhookTraffic.PostAsync(service.Url, body, WebhookTraffic.Sign(Secret, body)));

                    ReceivedItem item = await service.NextAsync();
                    Assert.Equal(ReceivedItemKind.Error, item.Kind);
                    Assert.Equal((NenErrorIds.UnexpectedResponse, NenErrorCategory.InvalidResult), (item.Error!.ErrorId, item.Error.Category));
                    Assert.Contains(why, item.Error.Message);
                    Assert.Contains("answered 400", item.Error.Message);
                    Assert.True(item.Error.Message.Length < 400, "The message shows no long value: " + item.Error.Message.Length);
                    Assert.Empty(service.TakeAll());
                    Assert.Equal(1, service.Receiver.Counters.Malformed);
                    Assert.Equal(0, service.Receiver.Counters.Accepted);
                    // A real update after it is taken as ever.
                    string id = Guid.NewGuid().ToString();
                    Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(service.Url, Secret, id, "success"));
                    Assert.Equal(id, (await service.NextAsync()).Status!.MessageId);
                }
                string kept = System.IO.File.ReadAllText(state);
                Assert.DoesNotContain("etc/passwd", kept);
                Assert.DoesNotContain("eeeeeeee-0000-4000-8000-000000000003", kept);
                Assert.True(kept.Length < 4096, $"The state file holds {kept.Length} characters.");
            }
            finally
            {
                System.IO.Directory.Delete(dir, recursive: true);
            }
        }

        [Theory]
        [InlineData("GET")]
        [InlineData("PUT")]
        [InlineData("DELETE")]
        public async Task OtherMethodsGet405(string method)
        {
            using var service = new Service();
            string body = WebhookTraffic.Body("m", "success");

            Assert.Equal(HttpStatusCode.MethodNotAllowed, await WebhookTraffic.PostAsync(service.Url, body, WebhookTraffic.Sign(Secret, body), new HttpMethod(method)));
            Assert.Empty(service.TakeAll());
        }

        [Fact]
        public async Task ATenMegabyteBodyGets413WithoutBeingRead()
        {
            using var service = new Service();
            const long tenMegabytes = 10L * 1024 * 1024;
            var clock = Stopwatch.StartNew();

            // The head declares 10 MB; only 64 KB follow and the rest never comes: the answer cannot wait for it.
            using TcpClient declared = await WebhookTraffic.SendPartialAsync(service.Port, WebhookTraffic.PostHead(service.Port, tenMegabytes), 64 * 1024);
            string? status = await WebhookTraffic.ReadStatusLineAsync(declared, Generous);

            Assert.StartsWith("HTTP/1.1 413", status);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"413 took {clock.Elapsed}");
            Assert.Equal(1, service.Receiver.Counters.TooLarge);
        }

        [Fact]
        public async Task AChunkedBodyThatGrowsPastTheLimitGets413()
        {
            using var service = new Service(o => o.MaxBodyBytes = 64 * 1024);
            using var content = new StreamContent(new System.IO.MemoryStream(new byte[200 * 1024]));
            using var request = new HttpRequestMessage(HttpMethod.Post, service.Url) { Content = content };
            request.Headers.TransferEncodingChunked = true;
            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });

            HttpStatusCode? answer = null;
            try
            {
                using HttpResponseMessage response = await http.SendAsync(request);
                answer = response.StatusCode;
            }
            catch (HttpRequestException)
            {
                // The receiver may close the connection while the client is still sending: what matters is below.
            }

            Assert.True(answer is null || answer == HttpStatusCode.RequestEntityTooLarge, $"answered {answer}");
            Assert.True(await Eventually.TrueAsync(() => service.Receiver.Counters.TooLarge == 1));
            Assert.Empty(service.TakeAll());
        }

        [Fact]
        public async Task AClientThatSendsHeadersAndStallsDoesNotDelayOtherDeliveriesAndIsDropped()
        {
            using var service = new Service(o => o.BodyTimeout = TimeSpan.FromSeconds(2));
            var stalled = new List<TcpClient>();
            for (int i = 0; i < 5; i++) stalled.Add(await WebhookTraffic.SendPartialAsync(service.Port, WebhookTraffic.PostHead(service.Port, 400) + "{\"mess"));
            try
            {
                var clock = Stopwatch.StartNew();
                var deliveries = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => WebhookTraffic.PostSignedAsync(service.Url, Secret, "run-" + i, "success")));
                TimeSpan took = clock.Elapsed;

                Assert.All(deliveries, d => Assert.Equal(HttpStatusCode.OK, d));
                Assert.True(took < TimeSpan.FromSeconds(1.5), $"ten deliveries beside five stalled clients took {took}");
                for (int i = 0; i < 10; i++) Assert.Equal(ReceivedItemKind.Update, (await service.NextAsync()).Kind);
                // The stalled ones are cut off after the body timeout: never with a 2xx, which would tell the sender it was delivered.
                foreach (TcpClient client in stalled)
                {
                    string? answer = await WebhookTraffic.ReadStatusLineAsync(client, Generous);
                    Assert.True(answer is null || answer.StartsWith("HTTP/1.1 408"), $"a stalled client was answered: {answer}");
                }
                Assert.Equal(5, service.Receiver.Counters.Abandoned);
            }
            finally
            {
                foreach (TcpClient client in stalled) client.Dispose();
            }
        }

        [Fact]
        public async Task TwoHundredStalledClientsHoldUpNoneOfTwentyDeliveries()
        {
            // Headers that declare a body, then nothing: each such request used to hold one of 64 slots for 5 s.
            using var service = new Service();
            var stalled = new List<TcpClient>();
            try
            {
                for (int i = 0; i < 200; i++) stalled.Add(await WebhookTraffic.SendPartialAsync(service.Port, WebhookTraffic.PostHead(service.Port, 100)));
                Assert.True(await Eventually.TrueAsync(() => service.Receiver.Counters.Requests >= 200), $"{service.Receiver.Counters.Requests} requests reached the receiver");

                var times = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
                {
                    var clock = Stopwatch.StartNew();
                    HttpStatusCode answer = await WebhookTraffic.PostSignedAsync(service.Url, Secret, "run-" + i, "success");
                    return (answer, clock.Elapsed);
                }));

                Assert.All(times, t => Assert.Equal(HttpStatusCode.OK, t.answer));
                Assert.All(times, t => Assert.True(t.Elapsed < TimeSpan.FromSeconds(2), $"a delivery beside 200 stalled clients took {t.Elapsed}"));
                Assert.Equal(0, service.Receiver.Counters.Busy);
            }
            finally
            {
                foreach (TcpClient client in stalled) client.Dispose();
            }
        }

        [Fact]
        public async Task StoppingDropsClientsStalledInTheirBodiesAtOnceAndAnswersNoneOf200()
        {
            // Ctrl+C while clients hold requests whose body never comes: the stop drops them all at once, and none is told
            // 200 (its sender must send it again). Left to HttpListener's own Close, 30 such clients held the stop for 15 s,
            // blocking a thread-pool thread per request that ended meanwhile (the core tests' process stalled for a
            // minute behind TwoHundredStalledClientsHoldUpNoneOfTwentyDeliveries), and 14 of the 30 were answered 200.
            const int clients = 30;
            var service = new Service();
            var stalled = new List<TcpClient>();
            try
            {
                for (int i = 0; i < clients; i++) stalled.Add(await WebhookTraffic.SendPartialAsync(service.Port, WebhookTraffic.PostHead(service.Port, 100)));
                Assert.True(await Eventually.TrueAsync(() => service.Receiver.Counters.Requests >= clients), $"{service.Receiver.Counters.Requests} requests reached the receiver");

                var clock = Stopwatch.StartNew();
                await Task.Run(service.Dispose); // as Receive-NenWebhook's stop does, off the test's thread
                TimeSpan stopping = clock.Elapsed;

                Assert.True(stopping < TimeSpan.FromSeconds(10), $"stopping took {stopping.TotalSeconds:0.0} s beside {clients} stalled clients");
                var answers = await Task.WhenAll(stalled.Select(c => WebhookTraffic.ReadStatusLineAsync(c, TimeSpan.FromSeconds(10))));
                Assert.All(answers, a => Assert.False(a?.Contains(" 200 ") == true, $"a dropped request was answered '{a}'"));
            }
            finally
            {
                foreach (TcpClient client in stalled) client.Dispose();
                service.Dispose();
            }
        }

        [Fact]
        public async Task ABodysBufferGrowsWithTheBytesThatArriveNeverWithTheLengthDeclared()
        {
            using var service = new Service(o =>
            {
                o.MaxBodyBytes = 16 * 1024 * 1024;
                o.BodyTimeout = TimeSpan.FromSeconds(10);
            });
            const long overhead = RequestMemoryBudget.RequestOverheadBytes;

            // 16 MB declared, 10 bytes sent: the request holds its overhead and a 4 KiB buffer, not 16 MB.
            using TcpClient client = await WebhookTraffic.SendPartialAsync(service.Port, WebhookTraffic.PostHead(service.Port, 16 * 1024 * 1024), 10);
            Assert.True(await Eventually.TrueAsync(() => service.Receiver.RequestMemoryInUse == overhead + 4096), $"{service.Receiver.RequestMemoryInUse} bytes held");
            // 10 KiB more: the buffer has doubled twice, to 16 KiB.
            await client.GetStream().WriteAsync(new byte[10 * 1024]);
            Assert.True(await Eventually.TrueAsync(() => service.Receiver.RequestMemoryInUse == overhead + 16 * 1024), $"{service.Receiver.RequestMemoryInUse} bytes held");
            client.Dispose();
            Assert.True(await Eventually.TrueAsync(() => service.Receiver.RequestMemoryInUse == 0), $"{service.Receiver.RequestMemoryInUse} bytes held after the client left");
        }

        [Theory]
        [InlineData(5.0, 5)]
        [InlineData(0.5, 1)]
        [InlineData(2.2, 3)]
        public void OnWindowsHttpSysGetsTheReadTimeoutForHeadersAndBodyInWholeSecondsElsewhereNothingIsSet(double seconds, int expected)
        {
            var options = new WebhookListenerOptions { HeaderTimeout = TimeSpan.FromSeconds(seconds), BodyTimeout = TimeSpan.FromSeconds(seconds) };

            HttpSysTimeouts? windows = HttpSysTimeouts.For(options, windows: true);

            Assert.Equal(TimeSpan.FromSeconds(expected), windows!.Value.HeaderWait);
            Assert.Equal(TimeSpan.FromSeconds(expected), windows.Value.EntityBody);
            // .NET's own listener throws PlatformNotSupportedException for these: nothing is set.
            Assert.Null(HttpSysTimeouts.For(options, windows: false));
        }

        [Fact]
        public async Task WhenTheRequestMemoryIsSpentTheNextRequestGets503AtOnce()
        {
            // Room for two requests of 100 declared bytes (16 KiB each besides the body), not three.
            using var service = new Service(o =>
            {
                o.MaxBodyBytes = 1024;
                o.MaxRequestMemoryBytes = 2 * (RequestMemoryBudget.RequestOverheadBytes + 100) + 500;
                o.BodyTimeout = TimeSpan.FromSeconds(10);
            });
            using TcpClient first = await WebhookTraffic.SendPartialAsync(service.Port, WebhookTraffic.PostHead(service.Port, 100));
            using TcpClient second = await WebhookTraffic.SendPartialAsync(service.Port, WebhookTraffic.PostHead(service.Port, 100));
            Assert.True(await Eventually.TrueAsync(() => service.Receiver.RequestMemoryInUse == 2 * (RequestMemoryBudget.RequestOverheadBytes + 100)));

            var clock = Stopwatch.StartNew();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await WebhookTraffic.PostSignedAsync(service.Url, Secret, "m", "success"));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the 503 took {clock.Elapsed}");
            Assert.Equal(1, service.Receiver.Counters.Busy);
            // The memory comes back as the stalled ones end: then the delivery is taken.
            first.Dispose();
            second.Dispose();
            Assert.True(await Eventually.TrueAsync(() => service.Receiver.RequestMemoryInUse == 0));
            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(service.Url, Secret, "m", "success"));
        }

        [Fact]
        public async Task StoppingFreesThePortAtOnceEvenWithConnectionsOpen()
        {
            var service = new Service();
            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(service.Url, Secret, "m", "success"));
            using TcpClient stalled = await WebhookTraffic.SendPartialAsync(service.Port, WebhookTraffic.PostHead(service.Port, 100));
            Assert.False(WebhookTraffic.CanListen(service.Url));

            service.Dispose();

            Assert.True(WebhookTraffic.CanListen(service.Url));
            using var again = new Service(port: service.Port);
            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(again.Url, Secret, "m2", "success"));
        }

        [Fact]
        public void AStartedListenerIsNenWebhookListenFailedForASecondReceiverOnThePrefix()
        {
            using var first = new Service();

            var second = new WebhookReceiver(new WebhookReceiverOptions { Listener = new WebhookListenerOptions { Prefixes = new[] { first.Url }, Secrets = first.Secrets } }, null, UpdateLedger.InMemory());
            var error = Assert.Throws<NenException>(() => second.Start(default));

            Assert.Equal(NenErrorIds.WebhookListenFailed, error.ErrorId);
            Assert.Contains(first.Url, error.Message);
            second.Dispose();
        }

        [Theory]
        [InlineData("")]
        [InlineData("ftp://127.0.0.1:8089/nen/")]
        [InlineData("8089/nen/")]
        [InlineData("http://127.0.0.1:8089/nen/?x=1")]
        [InlineData("http://user:canary-pw@127.0.0.1:8089/nen/")]
        public void APrefixThatIsNoListenerPrefixIsNenInvalidWebhookPrefix(string prefix)
        {
            var error = Assert.Throws<NenException>(() => WebhookPrefix.Check(prefix));

            Assert.Equal(NenErrorIds.InvalidWebhookPrefix, error.ErrorId);
            Assert.Equal(NenErrorCategory.InvalidArgument, error.Category);
            Assert.DoesNotContain("canary-pw", error.Message);
        }

        [Theory]
        [InlineData("http://+:8089/nen/", "http://+:8089/nen/")]
        [InlineData("http://*:8089/nen", "http://*:8089/nen/")]
        [InlineData("https://hooks.example.com:8443/", "https://hooks.example.com:8443/")]
        [InlineData(" http://127.0.0.1:8089/nen/ ", "http://127.0.0.1:8089/nen/")]
        public void ListenerPrefixesPassWithTheirTrailingSlash(string prefix, string expected) => Assert.Equal(expected, WebhookPrefix.Check(prefix));

        [Theory]
        [InlineData(5, true, "netsh http add urlacl url=http://+:8089/nen/ user=DOMAIN\\user", NenErrorCategory.PermissionDenied)]
        [InlineData(183, true, "Another program", NenErrorCategory.ResourceUnavailable)]
        [InlineData(98, false, "Another program", NenErrorCategory.ResourceUnavailable)]
        [InlineData(13, false, "Ports below 1024", NenErrorCategory.PermissionDenied)]
        public void AFailedBindSaysWhatToDoOnEachPlatform(int code, bool windows, string hint, NenErrorCategory category)
        {
            Assert.Contains(hint, WebhookListener.ListenFailureHint(code, windows, "http://+:8089/nen/"));
            Assert.Equal(category, WebhookListener.ListenFailureCategory(code, windows));
        }

        [Fact]
        public async Task AServiceStopsListeningAndIsDoneWhenItsTimeRunsOut()
        {
            int port = WebhookTraffic.FreePort();
            using SecretValue secret = TestEmulator.Secret(Secret);
            var prefix = WebhookTraffic.Prefix(port);
            using var receiver = new WebhookReceiver(new WebhookReceiverOptions
            {
                Listener = new WebhookListenerOptions { Prefixes = new[] { prefix }, Secrets = new[] { secret } },
                Timeout = TimeSpan.FromMilliseconds(500),
            }, null, UpdateLedger.InMemory());
            receiver.Start(default);
            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(prefix, Secret, "m", "success"));

            var clock = Stopwatch.StartNew();
            var taken = new List<ReceivedItem>();
            while (!receiver.IsDone && clock.Elapsed < Generous)
            {
                ReceivedItem? item = await receiver.TakeAsync(TimeSpan.FromSeconds(1));
                if (item != null) taken.Add(item);
            }

            Assert.True(receiver.IsDone);
            Assert.Single(taken);
            Assert.True(WebhookTraffic.CanListen(prefix));
        }
    }
}
