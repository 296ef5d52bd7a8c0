using System;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using NenAi.TestSupport;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Models;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Emulator;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>Spec §11 retries: GET retried on transient failures; POST only when provably not accepted.</summary>
    public class RetryTests
    {
        [Fact]
        public async Task PostRetriedAfter429HonoursRetryAfterAndStartsOneRun()
        {
            await using var emu = await TestEmulator.StartAsync();
            await emu.ScriptAsync(new ScriptedFault { Kind = "429", Route = "POST /runs", Count = 1, RetryAfterSeconds = 1 });
            var sw = Stopwatch.StartNew();
            RunAccepted run = await emu.Client().StartRunAsync(Requests.Echo());
            Assert.True(sw.Elapsed >= TimeSpan.FromSeconds(0.95), $"retried after {sw.Elapsed.TotalMilliseconds} ms, before Retry-After");
            Assert.Equal(2, emu.State.PostRuns);
            Assert.Single(emu.State.Ledger);
            Assert.Equal(run.MessageId, emu.State.Ledger[0].MessageId);
        }

        [Fact]
        public async Task PostRetriedAfter503WithRetryAfterAsHttpDate()
        {
            await using var emu = await TestEmulator.StartAsync();
            await emu.ScriptAsync(new ScriptedFault { Kind = "503", Route = "POST /runs", Count = 1, RetryAfterSeconds = 2, RetryAfterAsDate = true });
            var sw = Stopwatch.StartNew();
            await emu.Client().StartRunAsync(Requests.Echo());
            // An HTTP date has whole-second precision: at least one full second must pass.
            Assert.True(sw.Elapsed >= TimeSpan.FromSeconds(0.95), $"retried after {sw.Elapsed.TotalMilliseconds} ms");
            Assert.Single(emu.State.Ledger);
        }

        [Fact]
        public async Task RetryAfterBeyondTheTimeBudgetIsNotWaitedFor()
        {
            await using var emu = await TestEmulator.StartAsync();
            await emu.ScriptAsync(new ScriptedFault { Kind = "429", Route = "POST /runs", Count = 1, RetryAfterSeconds = 120 });
            var sw = Stopwatch.StartNew();
            var ex = await Assert.ThrowsAsync<NenException>(() => emu.Client(o => o.MaximumRetryDuration = TimeSpan.FromSeconds(10)).StartRunAsync(Requests.Echo()));
            Assert.Equal(NenErrorIds.RateLimited, ex.ErrorId);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5));
            Assert.Equal(1, emu.State.PostRuns);
        }

        [Fact]
        public async Task RefusalsAreWaitedOutForTheTimeBudgetWhateverTheRetryCount()
        {
            // Issue 25: the count no longer ends a burst of 503s (it did: 3 POSTs, then NenServiceUnavailable); time does.
            await using var emu = await TestEmulator.StartAsync();
            await emu.ScriptAsync(new ScriptedFault { Kind = "503", Route = "POST /runs", Count = 10, RetryAfterSeconds = 0 });
            RunAccepted run = await emu.Client(o => { o.MaximumRetryCount = 2; o.RetryBaseDelay = TimeSpan.FromMilliseconds(10); }).StartRunAsync(Requests.Echo());
            Assert.Equal(11, emu.State.PostRuns);
            Assert.Equal(run.MessageId, Assert.Single(emu.State.Ledger).MessageId);

            await emu.ScriptAsync(new ScriptedFault { Kind = "503", Route = "POST /runs", Count = 1000, RetryAfterSeconds = 0 });
            var sw = Stopwatch.StartNew();
            var ex = await Assert.ThrowsAsync<NenException>(() => emu.Client(o => { o.MaximumRetryDuration = TimeSpan.FromSeconds(1); o.RetryBaseDelay = TimeSpan.FromMilliseconds(10); }).StartRunAsync(Requests.Echo()));
            Assert.Equal(NenErrorIds.ServiceUnavailable, ex.ErrorId);
            Assert.Contains("-RetryBudgetSec", ex.Message);
            Assert.InRange(sw.Elapsed, TimeSpan.FromSeconds(0.3), TimeSpan.FromSeconds(10));
        }

        [Theory]
        [InlineData("500-after-accept")]
        [InlineData("reset-after-accept")]
        public async Task AmbiguousPostFailureIsOutcomeUnknownAndNeverResent(string kind)
        {
            await using var emu = await TestEmulator.StartAsync();
            await emu.ScriptAsync(new ScriptedFault { Kind = kind, Route = "POST /runs", Count = 1 });
            var request = Requests.Echo();
            var ex = await Assert.ThrowsAsync<NenOutcomeUnknownException>(() => emu.Client().StartRunAsync(request));
            Assert.Equal(NenErrorIds.OutcomeUnknown, ex.ErrorId);
            Assert.Equal(request.IdempotencyKey, ex.IdempotencyKey);
            Assert.Contains("not resubmitted", ex.Message);
            Assert.Equal(1, emu.State.PostRuns);
            Assert.Single(emu.State.Ledger); // the server did start it: exactly once
        }

        [Fact]
        public async Task ResetBeforeAcceptIsStillReportedUnknownBecauseTheClientCannotTell()
        {
            await using var emu = await TestEmulator.StartAsync();
            await emu.ScriptAsync(new ScriptedFault { Kind = "reset", Route = "POST /runs", Count = 1 });
            await Assert.ThrowsAsync<NenOutcomeUnknownException>(() => emu.Client().StartRunAsync(Requests.Echo()));
            Assert.Equal(1, emu.State.PostRuns);
            Assert.Empty(emu.State.Ledger);
        }

        [Fact]
        public async Task PostTimeoutIsOutcomeUnknown()
        {
            await using var emu = await TestEmulator.StartAsync();
            await emu.ScriptAsync(new ScriptedFault { Kind = "latency", LatencyMs = 3000, Route = "POST /runs", Count = 1 });
            var ex = await Assert.ThrowsAsync<NenOutcomeUnknownException>(() => emu.Client(o => o.Timeout = TimeSpan.FromMilliseconds(300)).StartRunAsync(Requests.Echo()));
            Assert.Contains("timed out", ex.Message);
            Assert.Equal(1, emu.State.PostRuns);
        }

        [Fact]
        public async Task ConnectionRefusedIsRetriedBecauseNothingWasSent()
        {
            int port;
            using (var l = new TcpListener(IPAddress.Loopback, 0)) { l.Start(); port = ((IPEndPoint)l.LocalEndpoint).Port; }
            var options = NenAi.Core.Configuration.NenClientOptions.Resolve($"http://127.0.0.1:{port}", TestEmulator.Secret("k"), environment: _ => null);
            options.MaximumRetryCount = 2;
            options.RetryBaseDelay = TimeSpan.FromMilliseconds(10);
            var log = new CapturingLog();
            var ex = await Assert.ThrowsAsync<NenTransportException>(() => new NenApiClient(options, log).StartRunAsync(Requests.Echo()));
            Assert.True(ex.ProvablyNotSent);
            Assert.Equal(NenErrorIds.NetworkError, ex.ErrorId);
            Assert.Equal(2, log.Lines.Count(l => l.Contains("provably not accepted") && l.Contains("sends it again")));
        }

        [Theory]
        [InlineData("500")]
        [InlineData("503")]
        [InlineData("429")]
        [InlineData("reset")]
        public async Task GetIsRetriedOnTransientFailures(string kind)
        {
            await using var emu = await TestEmulator.StartAsync();
            RunAccepted run = await emu.Client().StartRunAsync(Requests.Echo());
            await emu.ScriptAsync(new ScriptedFault { Kind = kind, Route = "GET /runs", Count = 2, RetryAfterSeconds = 0 });
            RunSnapshot status = await emu.Client().GetRunAsync(run.MessageId);
            Assert.Equal(run.MessageId, status.MessageId);
            Assert.Equal(3, emu.State.GetsFor(run.MessageId));
        }

        [Fact]
        public async Task IdempotencyKeyReplaysTheOriginalRun()
        {
            await using var emu = await TestEmulator.StartAsync();
            var first = Requests.Echo();
            var again = Requests.Echo();
            again.IdempotencyKey = first.IdempotencyKey;
            RunAccepted a = await emu.Client().StartRunAsync(first);
            RunAccepted b = await emu.Client().StartRunAsync(again);
            Assert.Equal(a.MessageId, b.MessageId);
            Assert.Single(emu.State.Ledger);
        }

        [Fact]
        public async Task IdempotencySwitchedOffStartsTwoRuns()
        {
            await using var emu = await TestEmulator.StartAsync(c => c.HonourIdempotencyKey = false);
            var first = Requests.Echo();
            var again = Requests.Echo();
            again.IdempotencyKey = first.IdempotencyKey;
            await emu.Client().StartRunAsync(first);
            await emu.Client().StartRunAsync(again);
            Assert.Equal(2, emu.State.Ledger.Count);
        }

        [Fact]
        public void RetryAfterParsesSecondsAndDates()
        {
            var now = new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);
            Assert.Equal(TimeSpan.FromSeconds(7), RetryAfter.Parse("7", now));
            Assert.Equal(TimeSpan.FromSeconds(30), RetryAfter.Parse("Sun, 22 Nov 2026 10:00:30 GMT", now));
            Assert.Equal(TimeSpan.Zero, RetryAfter.Parse("Sun, 22 Nov 2026 09:00:00 GMT", now));
            Assert.Null(RetryAfter.Parse("soon", now));
        }
    }
}
