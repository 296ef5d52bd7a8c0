using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using NenAi.Core.Batch;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Models;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Core.Waiting;
using NenAi.Emulator;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// Answers that are not the Nen API's (acceptance: a captive portal answering 200 text/html, a 302 to https or to a
    /// login, a 418, a status read answered with a page) meet every request alike: the one circuit stops the stage
    /// after a bounded number of requests with one reason that says what came back, and every row or run is accounted
    /// for under what is known. Valid JSON with unknown fields or statuses stays the API's (tolerant reader).
    /// </summary>
    public class ForeignAnswerTests
    {
        private const int Forever = 1_000_000;
        private const string PortalPage = "<html><body>Please log in to the Hotel WiFi</body></html>";

        private static ScriptedFault Answer(string route, int status, string? contentType, string? body, params (string Name, string Value)[] headers)
        {
            var fault = new ScriptedFault { Kind = "raw", Route = route, Count = Forever, StatusCode = status, Body = body };
            if (contentType != null) fault.Headers["Content-Type"] = contentType;
            foreach (var (name, value) in headers) fault.Headers[name] = value;
            return fault;
        }

        private static async Task<(List<SubmissionOutcome> Outcomes, BatchSubmitter Submitter)> Submit(TestEmulator emu, int rows)
        {
            var submitter = new BatchSubmitter(emu.Client(), maxConcurrency: 8);
            var outcomes = new List<SubmissionOutcome>();
            await foreach (var o in submitter.SubmitAllAsync(Enumerable.Range(0, rows).Select(i => Requests.Echo("row" + i)))) outcomes.Add(o);
            return (outcomes, submitter);
        }

        public static IEnumerable<object[]> SuccessesThatAreNotTheApis() => new[]
        {
            new object[] { 200, "text/html", PortalPage, "HTTP 200 OK with text/html" },
            new object[] { 202, "application/json", "{\"message\":\"Job accepted for proc", "202 Accepted" },
            new object[] { 202, "application/json", "{}", "202 Accepted" },
        };

        [Theory]
        [MemberData(nameof(SuccessesThatAreNotTheApis))]
        public async Task ABatchAnsweredWithPagesStopsAfterAFewUnknownsWithOneReasonThatSaysWhatCameBack(int status, string contentType, string body, string told)
        {
            // Acceptance: 50 POSTs, 50 NenOutcomeUnknown ("The server accepted the run ..."), never stopping.
            await using var emu = await TestEmulator.StartAsync(c => c.Faults = new FaultSettings { LatencyMs = 20, ApplyTo = "post" });
            await emu.ScriptAsync(Answer("POST /runs", status, contentType, body));

            var (outcomes, submitter) = await Submit(emu, 200);
            using (submitter)
            {
                Assert.Equal(200, outcomes.Count);
                Assert.InRange(emu.State.PostRuns, BatchCircuit.DefaultFailureLimit, 8 + 1);
                List<SubmissionOutcome> unknown = outcomes.Where(o => o.Status == SubmissionStatus.OutcomeUnknown).ToList();
                Assert.Equal(emu.State.PostRuns, unknown.Count); // a 2xx may have started a run: unknown, with its key
                Assert.All(outcomes.Except(unknown), o => Assert.IsType<NenNotSentException>(o.Error));
                Assert.All(unknown, o => Assert.Contains(told, o.Error!.Message));
                Assert.All(unknown, o => Assert.Contains("Idempotency-Key: " + o.Request.IdempotencyKey, o.Error!.Message));
                if (status != 202) Assert.All(unknown, o => Assert.DoesNotContain("accepted", o.Error!.Message, StringComparison.OrdinalIgnoreCase));

                Assert.Equal(CircuitTrip.Failures, submitter.Circuit.Trip);
                NenException reason = submitter.Circuit.ClosedBecause!;
                Assert.Equal(NenErrorIds.UnexpectedResponse, reason.ErrorId);
                Assert.Contains(told, reason.Message);
                Assert.Contains("not the Nen API's JSON", reason.Message);
                Assert.Contains("captive portal", reason.Message);
                Assert.Contains("-BaseUri", reason.Message);
            }
        }

        [Fact]
        public async Task ARedirectStopsTheBatchAtOnceNamingWhereItLedWithoutItsQueryAndIsNeverFollowed()
        {
            // Acceptance: every POST answered 302 to another host: 50 NenHttpError, "50 failed", Location not named.
            await using var emu = await TestEmulator.StartAsync(c => c.Faults = new FaultSettings { LatencyMs = 20, ApplyTo = "post" });
            await emu.ScriptAsync(Answer("POST /runs", 302, null, null, ("Location", "http://127.0.0.2:5399/runs?sid=portal-token-8f2e")));

            var (outcomes, submitter) = await Submit(emu, 100);
            using (submitter)
            {
                Assert.Equal(100, outcomes.Count);
                Assert.InRange(emu.State.PostRuns, 1, 8); // at most the requests already on the wire
                Assert.Equal(CircuitTrip.Address, submitter.Circuit.Trip);
                NenException reason = submitter.Circuit.ClosedBecause!;
                Assert.Equal(NenErrorIds.Redirected, reason.ErrorId);
                Assert.Contains("HTTP 302 Found, a redirect to http://127.0.0.2:5399/runs.", reason.Message);
                Assert.Contains("was not followed", reason.Message);
                Assert.Contains("-BaseUri", reason.Message);
                Assert.DoesNotContain("portal-token", reason.Message);
                Assert.DoesNotContain("sid=", reason.Message);
                // Nothing was started and nothing went elsewhere: each row is the stop's own (not sent), none a network error.
                Assert.All(outcomes, o => Assert.True(o.Error is NenNotSentException || o.Error!.ErrorId == NenErrorIds.Redirected, o.Error?.ToString()));
                Assert.Empty(emu.State.Ledger);
            }
        }

        [Fact]
        public void ARedirectFromHttpToHttpsSaysTheBaseUriShouldBeTheHttpsAddress()
        {
            NenException e = ForeignAnswers.Redirected(HttpStatusCode.MovedPermanently, new Uri("https://user:pw@api.example.test/runs?x=1"), new Uri("http://api.example.test/runs"), "Starting the run");

            Assert.Equal(NenErrorIds.Redirected, e.ErrorId);
            Assert.Contains("a redirect to https://api.example.test/runs.", e.Message);
            Assert.Contains("-BaseUri should be the https:// address", e.Message);
            Assert.DoesNotContain("pw", e.Message);
            Assert.DoesNotContain("x=1", e.Message);
        }

        [Fact]
        public async Task AStatusTheContractDoesNotDefineStopsTheBatchAfterAFewAndNoRowIsCountedFailed()
        {
            // Acceptance: every POST a 418: 50 NenHttpError and "50 failed".
            await using var emu = await TestEmulator.StartAsync(c => c.Faults = new FaultSettings { LatencyMs = 20, ApplyTo = "post" });
            await emu.ScriptAsync(Answer("POST /runs", 418, "text/plain", "I'm a teapot"));

            var (outcomes, submitter) = await Submit(emu, 100);
            using (submitter)
            {
                Assert.Equal(100, outcomes.Count);
                Assert.InRange(emu.State.PostRuns, BatchCircuit.DefaultFailureLimit, 8 + 2); // and the streak's probe: a row sent again once (twice when the first probe went out early)
                Assert.Equal(CircuitTrip.Failures, submitter.Circuit.Trip);
                NenException reason = submitter.Circuit.ClosedBecause!;
                Assert.Equal(NenErrorIds.HttpError, reason.ErrorId);
                Assert.Contains("HTTP 418", reason.Message);
                Assert.Contains("not as the Nen API answers", reason.Message);
                // A 418 started no run: every row is not sent (the stop's own reason, or never sent), none failed or unknown.
                Assert.All(outcomes, o => Assert.True(o.Error is NenNotSentException || ReferenceEquals(o.Error, reason), o.Error?.ToString()));
                Assert.Empty(emu.State.Ledger);
            }
        }

        [Fact]
        public async Task ARowAnsweredWithAnUndefinedStatusFailsAloneAfterOneMoreTryAndTheBatchGoesOn()
        {
            // Acceptance: one row a server refuses with 418 (a firewall refusing its values) was sent five times, which made
            // the whole streak, and the batch stopped with 14 healthy rows not sent. One request at a time, the first four
            // POSTs answered 418: the first row is sent again once (the streak's probe) and then fails alone, the second
            // too; the streak never reaches five, and the other 18 rows go.
            await using var emu = await TestEmulator.StartAsync();
            var fault = Answer("POST /runs", 418, "text/plain", "I'm a teapot");
            fault.Count = 4;
            await emu.ScriptAsync(fault);

            using var submitter = new BatchSubmitter(emu.Client(), maxConcurrency: 1);
            var outcomes = new List<SubmissionOutcome>();
            await foreach (var o in submitter.SubmitAllAsync(Enumerable.Range(0, 20).Select(i => Requests.Echo("row" + i)))) outcomes.Add(o);

            Assert.Equal(CircuitTrip.None, submitter.Circuit.Trip);
            var refused = outcomes.Where(o => o.Status == SubmissionStatus.Failed).ToList();
            Assert.Equal(2, refused.Count);
            Assert.All(refused, o => Assert.Equal(NenErrorIds.HttpError, o.Error!.ErrorId));
            Assert.Equal(18, outcomes.Count(o => o.Status == SubmissionStatus.Accepted));
            Assert.Equal(18, emu.State.Ledger.Count);
            Assert.Equal(22, emu.State.PostRuns); // the two refused rows twice each, the others once
        }

        [Theory]
        [InlineData("{}", "it has no status")]
        [InlineData("{\"message_id\":\"11111111-1111-4111-8111-111111111111\",\"status\":\"success\"}", "it is the status of another run, '11111111-1111-4111-8111-111111111111'")]
        public async Task AStatusAnswerThatIsNotThisRunsIsTheRunsOwnErrorNeverAnotherRunsStatusOrAnEndlessPoll(string body, string why)
        {
            // Acceptance: '{}' was "still running" (60 GETs until -TimeoutSec 60, for ever without it); another run's status
            // was written as this run's (its files would be saved as this run's) and this run was lost.
            await using var emu = await TestEmulator.StartAsync();
            string id = (await emu.Client().StartRunAsync(new RunRequest(TestEmulator.SlowWorkflow))).MessageId;
            await emu.ScriptAsync(Answer("GET /runs", 200, "application/json", body));
            int before = emu.State.GetRuns;

            using var waiter = new RunWaiter(emu.Client(), new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(50), Timeout = TimeSpan.FromSeconds(10) });
            var outcomes = new List<WaitOutcome>();
            await foreach (var o in waiter.WaitAllAsync(new[] { id })) outcomes.Add(o);

            WaitOutcome only = Assert.Single(outcomes);
            Assert.Equal(WaitOutcomeKind.Error, only.Kind);
            Assert.Equal(id, only.MessageId);
            Assert.Equal(NenErrorIds.UnexpectedResponse, only.Error!.ErrorId);
            Assert.Contains(why, only.Error.Message);
            Assert.InRange(emu.State.GetRuns - before, 1, 3);
        }

        public static IEnumerable<object[]> ReadAnswersThatAreNotTheApis() => new[]
        {
            new object[] { 200, "text/plain", "not json at all", NenErrorIds.UnexpectedResponse, CircuitTrip.Failures },
            new object[] { 200, "text/html", PortalPage, NenErrorIds.UnexpectedResponse, CircuitTrip.Failures },
            new object[] { 200, "application/json", "{\"message_id\":", NenErrorIds.UnexpectedResponse, CircuitTrip.Failures },
            new object[] { 418, "text/plain", "teapot", NenErrorIds.HttpError, CircuitTrip.Failures },
            new object[] { 307, null!, null!, NenErrorIds.Redirected, CircuitTrip.Address },
        };

        [Theory]
        [MemberData(nameof(ReadAnswersThatAreNotTheApis))]
        public async Task StatusReadsAnsweredWithPagesStopTheWaitWithOneReasonAndEveryRunNotFollowed(int status, string? contentType, string? body, string errorId, CircuitTrip trip)
        {
            // Acceptance: 50 runs, every GET /runs/{id} a page: one GET and one NenUnexpectedResponse per run.
            await using var emu = await TestEmulator.StartAsync();
            var setup = emu.Client();
            var ids = new List<string>();
            for (int i = 0; i < 20; i++) ids.Add((await setup.StartRunAsync(new RunRequest(TestEmulator.SlowWorkflow))).MessageId);
            var fault = status == 307
                ? Answer("GET /runs", status, null, null, ("Location", "https://login.example.test/portal?token=abc123"))
                : Answer("GET /runs", status, contentType, body);
            await emu.ScriptAsync(fault);
            int before = emu.State.GetRuns;
            using var waiter = new RunWaiter(emu.Client(), new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(100) });

            var outcomes = new List<WaitOutcome>();
            await foreach (var o in waiter.WaitAllAsync(ids)) outcomes.Add(o);

            Assert.Equal(20, outcomes.Count);
            Assert.All(outcomes, o => Assert.Equal(WaitOutcomeKind.Stopped, o.Kind));
            Assert.Equal(trip, waiter.Circuit.Trip);
            Assert.Equal(errorId, waiter.Circuit.ClosedBecause!.ErrorId);
            Assert.Equal((0, 0, 20), (waiter.Failed, waiter.StatusUnknown, waiter.NotFollowed));
            Assert.InRange(emu.State.GetRuns - before, 1, 16 + 10); // at most the reads on the wire, then a probe or two
            Assert.DoesNotContain("abc123", waiter.Circuit.ClosedBecause.Message);
        }

        [Fact]
        public async Task AStatusWithUnknownFieldsAndAnUnknownStatusIsStillTheApisAnswer()
        {
            // Tolerant reader (spec section 11): valid JSON the contract does not list is read, not counted against the service.
            await using var emu = await TestEmulator.StartAsync();
            var setup = emu.Client();
            string id = (await setup.StartRunAsync(new RunRequest(TestEmulator.SlowWorkflow))).MessageId;
            await emu.ScriptAsync(Answer("GET /runs", 200, "application/json",
                $"{{\"message_id\":\"{id}\",\"status\":\"warming_up\",\"progress\":0.5,\"new_field\":{{\"a\":[1,2]}}}}"));

            RunSnapshot snapshot = await emu.Client().GetRunAsync(id);

            Assert.Equal("warming_up", snapshot.Status);
            Assert.False(snapshot.IsTerminal);
        }
    }
}
