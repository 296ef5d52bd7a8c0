using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Batch;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Journal;
using NenAi.Core.Models;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Emulator;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// Issue 17: one circuit judges every "the service is not working" signal of a batch: a few ambiguous failures in a
    /// row, or the first refused credential, stop it; a busy but working service never does.
    /// </summary>
    public class BatchCircuitTests
    {
        private static readonly NenException ServerError = new NenException(NenErrorIds.ServerError, NenErrorCategory.ResourceUnavailable, "HTTP 500");

        private static BatchCircuit Circuit(int failureLimit = BatchCircuit.DefaultFailureLimit) =>
            new BatchCircuit(5, TimeSpan.FromMinutes(2), TimeSpan.FromMilliseconds(1), failureLimit: failureLimit);

        [Fact]
        public async Task AmbiguousFailuresInARowTripItAndAnAnswerInBetweenStartsTheCountAgain()
        {
            BatchCircuit circuit = Circuit(failureLimit: 3);
            var admissions = new List<Admission>();
            for (int i = 0; i < 4; i++) admissions.Add(await circuit.EnterAsync(CancellationToken.None));

            Assert.Null(circuit.Failed(admissions[0], ServerError));
            Assert.Null(circuit.Failed(admissions[1], ServerError));
            circuit.Answered(admissions[2]); // the service still answers: not an outage
            Assert.Null(circuit.Failed(admissions[3], ServerError));
            Assert.Equal(CircuitTrip.None, circuit.Trip);

            Admission probe = await circuit.EnterAsync(CancellationToken.None);
            Assert.True(probe.Probe); // after a failure one request probes while the others wait
            Assert.Null(circuit.Failed(probe, ServerError));
            Admission next = await circuit.EnterAsync(CancellationToken.None);
            NenException? tripped = circuit.Failed(next, ServerError);

            Assert.NotNull(tripped);
            Assert.Equal(CircuitTrip.Failures, circuit.Trip);
            Assert.True(circuit.TrippedByService);
            Assert.Equal(NenErrorIds.ServerError, circuit.ClosedBecause!.ErrorId);
            Assert.Contains("in a row", circuit.ClosedBecause.Message);
            var ex = await Assert.ThrowsAsync<NenNotSentException>(() => circuit.EnterAsync(CancellationToken.None));
            Assert.Contains("Nothing was started", ex.Message);
        }

        [Fact]
        public async Task WhileAProbeIsOutAfterAFailureTheOthersWaitForItsAnswer()
        {
            BatchCircuit circuit = Circuit();
            Admission first = await circuit.EnterAsync(CancellationToken.None);
            circuit.Failed(first, ServerError);
            Admission probe = await circuit.EnterAsync(CancellationToken.None);
            Task<Admission> waiting = circuit.EnterAsync(CancellationToken.None);

            await Task.Delay(50);
            Assert.False(waiting.IsCompleted);
            circuit.Answered(probe);
            Admission released = await waiting.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.False(released.Probe);
        }

        [Fact]
        public async Task AnAnswerToARequestSentBeforeTheFailureResetsTheCountButDoesNotReopenTheBatch()
        {
            BatchCircuit circuit = Circuit(failureLimit: 2);
            Admission sentBefore = await circuit.EnterAsync(CancellationToken.None); // still on the wire when the outage begins
            Admission first = await circuit.EnterAsync(CancellationToken.None);
            Assert.Null(circuit.Failed(first, ServerError));
            Admission probe = await circuit.EnterAsync(CancellationToken.None);
            Assert.True(probe.Probe);

            circuit.Answered(sentBefore);
            // It was sent before the failure: the batch stays closed to new rows until the probe has its answer
            // (a new sender would get in at once if it reopened: EnterAsync then completes without waiting).
            Task<Admission> next = circuit.EnterAsync(CancellationToken.None);
            Assert.False(next.IsCompleted);
            // But the service did answer it: the count of failures in a row starts again.
            Assert.Null(circuit.Failed(probe, ServerError));
            Assert.Equal(CircuitTrip.None, circuit.Trip);

            Admission secondProbe = await next.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.True(secondProbe.Probe);
            Assert.NotNull(circuit.Failed(secondProbe, ServerError)); // two in a row with no answer in between
        }

        [Theory]
        [InlineData(NenErrorIds.Unauthorized, "API key")]
        [InlineData(NenErrorIds.InvalidSignature, "signing key")]
        [InlineData(NenErrorIds.InvalidTimestamp, "clock")]
        [InlineData(NenErrorIds.ProxyAuthenticationRequired, "proxy credentials")]
        public async Task ARefusedCredentialTripsItAtOnceAndSaysWhichWithoutShowingIt(string errorId, string named)
        {
            BatchCircuit circuit = BatchCircuit.ForWaiting(new Configuration.NenClientOptions()); // even a waiter's circuit
            NenException reason = circuit.Refused(new NenException(errorId, NenErrorCategory.AuthenticationError, "HTTP 401"));

            Assert.Equal(CircuitTrip.Credentials, circuit.Trip);
            Assert.Equal(errorId, reason.ErrorId);
            Assert.Contains(named, reason.Message);
            await Assert.ThrowsAsync<NenNotSentException>(() => circuit.EnterAsync(CancellationToken.None));
        }

        [Fact]
        public async Task AWaitersCircuitNeverTripsOnFailures()
        {
            BatchCircuit circuit = BatchCircuit.ForWaiting(new Configuration.NenClientOptions());
            for (int i = 0; i < 50; i++) Assert.Null(circuit.Failed(await circuit.EnterAsync(CancellationToken.None), ServerError));
            Assert.Equal(CircuitTrip.None, circuit.Trip);
        }

        [Fact]
        public async Task AWaitersCircuitWaitsOutARateLimitStormButTripsWhenTheServiceCannotBeReached()
        {
            var options = new Configuration.NenClientOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(1) };
            var rateLimited = new NenException(NenErrorIds.RateLimited, NenErrorCategory.QuotaExceeded, "HTTP 429");
            var unreachable = new NenTransportException("Connection refused.", provablyNotSent: true, null);

            // Twelve polls refused at once, then a probe at a time: beyond the budget (5 pauses, 12 refusals in a row).
            static async Task<NenException?> RefuseAll(BatchCircuit circuit, NenException cause)
            {
                var first = new List<Admission>();
                for (int i = 0; i < 12; i++) first.Add(await circuit.EnterAsync(CancellationToken.None));
                foreach (Admission a in first) if (circuit.Throttled(a, null, cause) is NenException tripped) return tripped;
                for (int probe = 0; probe < 8; probe++)
                    if (circuit.Throttled(await circuit.EnterAsync(CancellationToken.None), null, cause) is NenException tripped) return tripped;
                return null;
            }

            BatchCircuit throttled = BatchCircuit.ForWaiting(options);
            Assert.Null(await RefuseAll(throttled, rateLimited)); // the server answers: waiting on is right, -TimeoutSec bounds it
            Assert.Equal(CircuitTrip.None, throttled.Trip);

            BatchCircuit down = BatchCircuit.ForWaiting(options);
            NenException? reason = await RefuseAll(down, unreachable);
            Assert.NotNull(reason);
            Assert.Equal(CircuitTrip.Refusals, down.Trip);
            Assert.Equal(NenErrorIds.NetworkError, reason!.ErrorId);
        }

        private static readonly NenException ReadError = new NenException(NenErrorIds.ServerError, NenErrorCategory.ResourceUnavailable, "HTTP 500") { StatusCode = System.Net.HttpStatusCode.InternalServerError };
        private static readonly NenException ReadTimeout = new NenException(NenErrorIds.Timeout, NenErrorCategory.OperationTimeout, "stalled");

        /// <summary>A circuit on a clock the test moves, with a 10 s read outage window and a back-off too short to wait for.</summary>
        private static (BatchCircuit Circuit, Action<double> Advance) ReadCircuit(TimeSpan? window)
        {
            TimeSpan now = TimeSpan.Zero;
            var circuit = new BatchCircuit(5, TimeSpan.FromMinutes(2), TimeSpan.FromMilliseconds(1), () => now) { ReadOutageWindow = window };
            return (circuit, seconds => now += TimeSpan.FromSeconds(seconds));
        }

        [Fact]
        public async Task ReadsOfSeveralItemsFailingInARowWaitForOneProbeAndTripTheCircuitOnceTheStreakOutlastsTheWindow()
        {
            var (circuit, advance) = ReadCircuit(TimeSpan.FromSeconds(10));
            Admission a = await circuit.EnterAsync(CancellationToken.None), b = await circuit.EnterAsync(CancellationToken.None);
            Assert.Null(circuit.ReadFailed(a, ReadError, "/runs/a"));
            Assert.Null(circuit.ReadFailed(b, ReadError, "/runs/b")); // on the wire with it: no new pause
            Assert.True(await circuit.KeepReadingAsync(CancellationToken.None)); // a read whose retries ran out: the circuit judges

            Admission probe = await circuit.EnterAsync(CancellationToken.None);
            Assert.True(probe.Probe);
            Assert.False(circuit.EnterAsync(CancellationToken.None).IsCompleted); // the others wait for the probe's answer
            advance(4);
            Assert.Null(circuit.ReadFailed(probe, ReadError, "/runs/a")); // 4 s of failures: a burst, ridden out
            advance(1); // the pause after a failed probe (a millisecond's back-off here) is over
            Admission second = await circuit.EnterAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
            Assert.True(second.Probe);
            advance(6);
            NenException? tripped = circuit.ReadFailed(second, ReadError, "/runs/b");

            Assert.NotNull(tripped);
            Assert.Same(circuit.ClosedBecause, tripped);
            Assert.Equal(CircuitTrip.Failures, circuit.Trip);
            Assert.Equal(NenErrorIds.ServerError, tripped!.ErrorId);
            Assert.Contains("4 requests in a row failed this way over 11 s", tripped.Message);
            Assert.True(circuit.StoppedBy(tripped));
            // Another failure of the same kind is not the reason: a read on the wire learns it is not sent again instead.
            Assert.False(circuit.StoppedBy(new NenException(NenErrorIds.ServerError, NenErrorCategory.ResourceUnavailable, "another 500 on the wire")));
            await Assert.ThrowsAsync<NenNotSentException>(() => circuit.EnterAsync(CancellationToken.None));
        }

        [Fact]
        public async Task AnAnswerEndsAReadStreakAndTheNextFailureStartsANewOne()
        {
            var (circuit, advance) = ReadCircuit(TimeSpan.FromSeconds(10));
            Admission a = await circuit.EnterAsync(CancellationToken.None), b = await circuit.EnterAsync(CancellationToken.None);
            circuit.ReadFailed(a, ReadError, "x");
            circuit.ReadFailed(b, ReadError, "y");
            Admission probe = await circuit.EnterAsync(CancellationToken.None);
            advance(9);
            circuit.Answered(probe); // the service answers again

            Assert.False(await circuit.KeepReadingAsync(CancellationToken.None));
            Admission next = await circuit.EnterAsync(CancellationToken.None);
            Assert.False(next.Probe); // open again
            advance(30);
            Assert.Null(circuit.ReadFailed(next, ReadError, "x")); // a new streak: the 9 s before the answer do not count
            Assert.Equal(CircuitTrip.None, circuit.Trip);
        }

        [Fact]
        public async Task OneItemsFailuresAloneNeverTripTheCircuitAndItsOwnRetriesEndThem()
        {
            var (circuit, advance) = ReadCircuit(TimeSpan.FromSeconds(10));
            for (int i = 0; i < 20; i++)
            {
                Admission attempt = await circuit.EnterAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
                advance(5);
                Assert.Null(circuit.ReadFailed(attempt, ReadTimeout, "run-1/gone.bin")); // a link whose host is gone
            }
            Assert.Equal(CircuitTrip.None, circuit.Trip);
            Assert.False(await circuit.KeepReadingAsync(CancellationToken.None)); // one item's own for the whole window: it gives up alone
        }

        [Fact]
        public async Task AReadWhoseRetriesRunOutFirstWaitsForTheVerdictOfTheOthersOnTheWire()
        {
            // Reads on the wire together fail a moment apart: the first to run out of retries must not give up alone.
            var circuit = new BatchCircuit(5, TimeSpan.FromMinutes(2), TimeSpan.FromMilliseconds(1)) { ReadOutageWindow = TimeSpan.FromSeconds(30) };
            Admission a = await circuit.EnterAsync(CancellationToken.None), b = await circuit.EnterAsync(CancellationToken.None);
            circuit.ReadFailed(a, ReadTimeout, "r/a.bin");
            Task<bool> first = circuit.KeepReadingAsync(CancellationToken.None);
            await Task.Delay(100); // (the other read is still on the wire: nothing decides yet)
            Assert.False(first.IsCompleted);

            circuit.ReadFailed(b, ReadTimeout, "r/b.bin");

            Assert.True(await first.WaitAsync(TimeSpan.FromSeconds(5))); // everyone's failure: keep trying, the circuit judges

            // An answer instead ends the streak: the read that ran out gives up alone, at once.
            var other = new BatchCircuit(5, TimeSpan.FromMinutes(2), TimeSpan.FromMilliseconds(1)) { ReadOutageWindow = TimeSpan.FromSeconds(30) };
            Admission c = await other.EnterAsync(CancellationToken.None), d = await other.EnterAsync(CancellationToken.None);
            other.ReadFailed(c, ReadTimeout, "r/c.bin");
            Task<bool> waiting = other.KeepReadingAsync(CancellationToken.None);
            other.Answered(d);
            Assert.False(await waiting.WaitAsync(TimeSpan.FromSeconds(5)));
        }

        [Fact]
        public async Task AProbeThatTimesOutAfterTheOthersHadIsTheSecondTimeoutAndTripsAtOnce()
        {
            var (circuit, advance) = ReadCircuit(TimeSpan.FromSeconds(60));
            Admission a = await circuit.EnterAsync(CancellationToken.None), b = await circuit.EnterAsync(CancellationToken.None);
            advance(2);
            circuit.ReadFailed(a, ReadTimeout, "r/a.bin");
            circuit.ReadFailed(b, ReadTimeout, "r/b.bin");
            Admission probe = await circuit.EnterAsync(CancellationToken.None);
            advance(2);

            NenException? tripped = circuit.ReadFailed(probe, ReadTimeout, "r/a.bin");

            Assert.NotNull(tripped); // 2 s into a 60 s window: two timeouts in a row are enough
            Assert.Contains("timed out", tripped!.Message);

            // A server's own 408 answer is no timeout of ours: it is judged by the window.
            var (other, later) = ReadCircuit(TimeSpan.FromSeconds(60));
            var answered408 = new NenException(NenErrorIds.Timeout, NenErrorCategory.OperationTimeout, "HTTP 408") { StatusCode = System.Net.HttpStatusCode.RequestTimeout };
            Admission c = await other.EnterAsync(CancellationToken.None), d = await other.EnterAsync(CancellationToken.None);
            other.ReadFailed(c, answered408, "x");
            other.ReadFailed(d, answered408, "y");
            later(2);
            Assert.Null(other.ReadFailed(await other.EnterAsync(CancellationToken.None), answered408, "x"));
        }

        [Fact]
        public async Task WithoutAWindowReadsPauseButNeverTripTheCircuit()
        {
            var (circuit, advance) = ReadCircuit(window: null);
            Admission a = await circuit.EnterAsync(CancellationToken.None), b = await circuit.EnterAsync(CancellationToken.None);
            circuit.ReadFailed(a, ReadTimeout, "x");
            circuit.ReadFailed(b, ReadTimeout, "y");
            for (int i = 0; i < 10; i++)
            {
                Admission probe = await circuit.EnterAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
                Assert.True(probe.Probe);
                advance(60);
                Assert.Null(circuit.ReadFailed(probe, ReadTimeout, "x"));
                advance(1); // past the pause that failure started (at most half a second of back-off here)
            }
            Assert.Equal(CircuitTrip.None, circuit.Trip);
            Assert.False(await circuit.KeepReadingAsync(CancellationToken.None)); // each read gives up on its own (a webhook receiver's safety net)
        }

        [Theory]
        [InlineData(5, 500, 120, 15.5)]  // the defaults: one read's five retries' back-off, 0.5 + 1 + 2 + 4 + 8 s
        [InlineData(1, 500, 120, 10)]    // at least 10 s, whatever the retry settings: a burst is ridden out
        [InlineData(0, 500, 120, 10)]
        [InlineData(20, 500, 120, 120)]  // at most the retry duration
        [InlineData(5, 500, 3, 3)]
        public void TheReadOutageWindowIsOneReadsRetriesAtLeastTenSecondsAndAtMostTheRetryDuration(int retries, int baseMs, int durationSec, double expected)
        {
            var options = new Configuration.NenClientOptions { MaximumRetryCount = retries, RetryBaseDelay = TimeSpan.FromMilliseconds(baseMs), MaximumRetryDuration = TimeSpan.FromSeconds(durationSec) };
            Assert.Equal(expected, BatchCircuit.ReadOutageWindowFor(options).TotalSeconds, 3);
        }

        // ---- Issue 25: the retry budget is a time ----------------------------------------------------------------

        private static readonly NenException RateLimited = new NenException(NenErrorIds.RateLimited, NenErrorCategory.QuotaExceeded, "HTTP 429");

        /// <summary>A circuit with the defaults a command has (-RetryBudgetSec 120, -MaximumRetryCount 5) and a clock the test moves.</summary>
        private static (BatchCircuit Circuit, Func<TimeSpan, TimeSpan> Advance) TimedCircuit(TimeSpan? budget = null)
        {
            TimeSpan now = TimeSpan.Zero;
            var options = new Configuration.NenClientOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(500) };
            var circuit = new BatchCircuit(options.MaximumRetryCount, budget ?? options.MaximumRetryDuration, options.RetryBaseDelay, () => now);
            return (circuit, by => now += by);
        }

        [Fact]
        public async Task SixtySecondsOf429WithARetryAfterOfOneSecondAreWaitedOutWithTheDefaultBudget()
        {
            (BatchCircuit circuit, var advance) = TimedCircuit();
            Assert.Equal(TimeSpan.FromSeconds(120), new Configuration.NenClientOptions().MaximumRetryDuration);
            // Eight rows on the wire are refused together: one pause, not eight.
            var first = new List<Admission>();
            for (int i = 0; i < 8; i++) first.Add(await circuit.EnterAsync(CancellationToken.None));
            foreach (Admission a in first) Assert.Null(circuit.Throttled(a, TimeSpan.FromSeconds(1), RateLimited));
            Assert.Equal(1, circuit.Pauses);

            // Then a probe a second, each refused, for 60 s: 60 pauses, far beyond -MaximumRetryCount (5), no trip.
            for (int second = 0; second < 60; second++)
            {
                advance(TimeSpan.FromSeconds(1.1)); // Retry-After 1 plus at most 10% jitter
                Admission probe = await circuit.EnterAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
                Assert.True(probe.Probe);
                Assert.Null(circuit.Throttled(probe, TimeSpan.FromSeconds(1), RateLimited));
            }
            Assert.Equal(CircuitTrip.None, circuit.Trip);
            Assert.Equal(61, circuit.Pauses);

            // The storm is over: the probe is accepted and the batch goes on.
            advance(TimeSpan.FromSeconds(1.1));
            Admission last = await circuit.EnterAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
            circuit.Answered(last);
            Admission after = await circuit.EnterAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
            Assert.False(after.Probe);
        }

        [Fact]
        public async Task RefusalsWithNoAnswerForLongerThanTheBudgetTripItOnce()
        {
            (BatchCircuit circuit, var advance) = TimedCircuit(TimeSpan.FromSeconds(30));
            NenException? tripped = null;
            int pauses = 0;
            while (tripped is null && pauses < 100)
            {
                Admission probe = await circuit.EnterAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
                tripped = circuit.Throttled(probe, TimeSpan.FromSeconds(2), RateLimited);
                pauses++;
                advance(TimeSpan.FromSeconds(2.2));
            }

            Assert.NotNull(tripped);
            Assert.InRange(pauses, 12, 16); // about 30 s of 2-second pauses
            Assert.Equal(CircuitTrip.Refusals, circuit.Trip);
            Assert.Equal(NenErrorIds.RateLimited, tripped!.ErrorId);
            Assert.Contains("beyond the retry budget of 30 s (-RetryBudgetSec)", tripped.Message);
            await Assert.ThrowsAsync<NenNotSentException>(() => circuit.EnterAsync(CancellationToken.None));
        }

        [Fact]
        public async Task ARetryAfterBeyondTheBudgetTripsItAtTheFirstAnswer()
        {
            (BatchCircuit circuit, _) = TimedCircuit();
            NenException? tripped = circuit.Throttled(await circuit.EnterAsync(CancellationToken.None), TimeSpan.FromSeconds(300), RateLimited);

            Assert.NotNull(tripped);
            Assert.Contains("The service refused the request and asked to wait 300 s, beyond the retry budget of 120 s (-RetryBudgetSec)", tripped!.Message);
        }

        [Fact]
        public async Task AnAnswerInTheMiddleStartsTheBudgetAgain()
        {
            (BatchCircuit circuit, var advance) = TimedCircuit(TimeSpan.FromSeconds(10));
            for (int round = 0; round < 3; round++)
            {
                // 8 s of refusals, then one request accepted: 24 s of refusals in all, never 10 s in a row.
                for (int i = 0; i < 4; i++)
                {
                    Assert.Null(circuit.Throttled(await circuit.EnterAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5)), TimeSpan.FromSeconds(1.8), RateLimited));
                    advance(TimeSpan.FromSeconds(2));
                }
                circuit.Answered(await circuit.EnterAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5)));
            }
            Assert.Equal(CircuitTrip.None, circuit.Trip);
        }

        [Fact]
        public async Task WithoutARetryAfterThePausesGrowSoAServiceThatNeverSaysWhenIsNotProbedInATightLoop()
        {
            // Real time, small numbers: back-off from 10 ms, doubling, within a budget of 2 s.
            var circuit = new BatchCircuit(5, TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(10));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            int probes = 0;
            NenException? tripped = null;
            while (tripped is null && probes < 1000)
            {
                Admission probe = await circuit.EnterAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
                probes++;
                tripped = circuit.Throttled(probe, TimeSpan.Zero, RateLimited); // "Retry-After: 0" asks for nothing
            }

            Assert.NotNull(tripped);
            Assert.InRange(probes, 5, 14); // a tight loop would have sent hundreds in 2 s
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(4));
        }

        [Fact]
        public async Task AServiceThatCannotBeReachedStillTripsItAfterMaximumRetryCountPauses()
        {
            (BatchCircuit circuit, var advance) = TimedCircuit();
            var unreachable = new NenTransportException("Connection refused.", provablyNotSent: true, null);
            NenException? tripped = null;
            int probes = 0;
            while (tripped is null && probes < 50)
            {
                Admission probe = await circuit.EnterAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
                probes++;
                tripped = circuit.Throttled(probe, null, unreachable);
                advance(TimeSpan.FromSeconds(16)); // past each back-off (at most 16 s by the sixth), within the 120 s budget
            }

            Assert.Equal(6, probes); // -MaximumRetryCount 5: the sixth probe that finds no server trips it (seconds, not minutes)
            Assert.Equal(NenErrorIds.NetworkError, tripped!.ErrorId);
            Assert.Contains("No request got through", tripped.Message);
            Assert.Contains("-MaximumRetryCount 5", tripped.Message);
        }

        [Fact]
        public async Task AnOutageStopsABatchWithinTheRequestsOnTheWireAndOneProbe()
        {
            await using var emu = await TestEmulator.StartAsync(c => c.Faults = new FaultSettings { Rate500 = 1, ApplyTo = "post", LatencyMs = 20 });
            using var submitter = new BatchSubmitter(emu.Client(), maxConcurrency: 8);
            var outcomes = new List<SubmissionOutcome>();
            await foreach (var o in submitter.SubmitAllAsync(Enumerable.Range(0, 200).Select(i => Requests.Echo("row" + i)))) outcomes.Add(o);

            Assert.Equal(200, outcomes.Count);
            Assert.InRange(emu.State.PostRuns, BatchCircuit.DefaultFailureLimit, 8 + 1);
            Assert.Equal(emu.State.PostRuns, outcomes.Count(o => o.Status == SubmissionStatus.OutcomeUnknown)); // only the rows sent
            Assert.All(outcomes.Where(o => o.Status != SubmissionStatus.OutcomeUnknown), o => Assert.IsType<NenNotSentException>(o.Error));
            Assert.Equal(CircuitTrip.Failures, submitter.Circuit.Trip);
        }

        [Fact]
        public async Task ARefusedKeySendsAtMostTheRequestsOnTheWire()
        {
            await using var emu = await TestEmulator.StartAsync(c => c.Faults = new FaultSettings { ApplyTo = "post", LatencyMs = 20 });
            using var submitter = new BatchSubmitter(emu.Client(apiKey: "not-a-key"), maxConcurrency: 8);
            var outcomes = new List<SubmissionOutcome>();
            await foreach (var o in submitter.SubmitAllAsync(Enumerable.Range(0, 500).Select(i => Requests.Echo("row" + i)))) outcomes.Add(o);

            Assert.Equal(500, outcomes.Count);
            Assert.InRange(emu.State.PostRuns, 1, 8);
            Assert.Empty(emu.State.Ledger);
            Assert.Equal(CircuitTrip.Credentials, submitter.Circuit.Trip);
            Assert.All(outcomes, o => Assert.True(o.Error is NenNotSentException || o.Error!.ErrorId == NenErrorIds.Unauthorized, o.ToString()));
        }

        [Fact]
        public async Task ABusyServiceWithSomeAmbiguousFailuresNeverTripsIt()
        {
            // One ambiguous failure in ten (31 of the 300), seeded so that no 16 requests in a row (twice the wire) hold more
            // than three: the streak that trips the circuit (five, one of them a probe sent after the first came back) cannot
            // form however the answers of the eight on the wire overtake each other. (Seed 17 had five failures in nine
            // requests: on a loaded machine their answers came back before the successes between them, and it tripped.)
            await using var emu = await TestEmulator.StartAsync(c => c.Faults = new FaultSettings { Rate500AfterAccept = 0.1, ApplyTo = "post", Seed = 41 });
            using var submitter = new BatchSubmitter(emu.Client(), maxConcurrency: 8);
            var outcomes = new List<SubmissionOutcome>();
            await foreach (var o in submitter.SubmitAllAsync(Enumerable.Range(0, 300).Select(i => Requests.Echo("row" + i)))) outcomes.Add(o);

            Assert.Equal(300, outcomes.Count);
            Assert.InRange(outcomes.Count(o => o.Status == SubmissionStatus.OutcomeUnknown), 20, 40); // the failures did happen
            Assert.Equal(300, emu.State.PostRuns);
            Assert.Equal(CircuitTrip.None, submitter.Circuit.Trip);
        }

        [Fact]
        public async Task StoppingAtTheFirstFailureSendsAtMostTheLimitMinusOneRowsAfterIt()
        {
            // Row 2 is refused (422); every answer takes 50 ms, so the rows around it answer at the same moment.
            await using var emu = await TestEmulator.StartAsync(c => c.Faults = new FaultSettings { LatencyMs = 50, ApplyTo = "post" });
            using var submitter = new BatchSubmitter(emu.Client(), maxConcurrency: 8) { StopAtFirstFailure = true };
            IEnumerable<RunRequest> Rows()
            {
                for (int i = 1; i <= 50; i++)
                {
                    RunRequest r = Requests.Echo("row" + i);
                    if (i == 2) r.Parameters.Add(new KeyValuePair<string, object?>("COUNT", "not a number"));
                    yield return r;
                }
            }
            var outcomes = new List<SubmissionOutcome>();
            await foreach (var o in submitter.SubmitAllAsync(Rows())) outcomes.Add(o);

            Assert.Equal(50, outcomes.Count);
            Assert.InRange(emu.State.Ledger.Count, 1, 8);
            Assert.InRange(emu.State.PostRuns, 2, 9); // row 2 and at most 7 after it, plus row 1
            Assert.Equal(NenErrorIds.InvalidWorkflowParams, Assert.Single(outcomes, o => o.Status == SubmissionStatus.Failed && !(o.Error is NenNotSentException)).Error!.ErrorId);
            Assert.Equal(CircuitTrip.Stopped, submitter.Circuit.Trip);
        }

        [Fact]
        public void TheTallyCountsWhatStoppedTheBatchForItsOneErrorAndShowsTheRest()
        {
            BatchCircuit circuit = Circuit();
            var tally = new BatchTally();
            for (int row = 0; row < 5; row++) tally.Read(); // five rows read: one of them never reached the batch
            var unauthorized = new NenException(NenErrorIds.Unauthorized, NenErrorCategory.AuthenticationError, "HTTP 401");
            var refusedRow = new SubmissionOutcome(Requests.Echo(), SubmissionStatus.Failed, null, unauthorized);
            var badRow = new SubmissionOutcome(Requests.Echo(), SubmissionStatus.Failed, null, new NenException(NenErrorIds.InvalidWorkflowParams, NenErrorCategory.InvalidData, "HTTP 422"));

            Assert.Equal(OutcomeShown.Error, tally.Count(refusedRow, circuit)); // before the circuit trips, a row's own error
            circuit.Refused(unauthorized);
            Assert.Equal(OutcomeShown.Counted, tally.Count(refusedRow, circuit));
            Assert.Equal(OutcomeShown.Counted, tally.Count(new SubmissionOutcome(Requests.Echo(), SubmissionStatus.Failed, null, NenNotSentException.GateClosed(unauthorized)), circuit));
            Assert.Equal(OutcomeShown.Error, tally.Count(badRow, circuit)); // another failure is still its row's own
            Assert.Equal(OutcomeShown.Run, tally.Count(new SubmissionOutcome(Requests.Echo(), SubmissionStatus.Accepted, new RunAccepted("m", TestEmulator.EchoWorkflow, null, DateTimeOffset.UtcNow, "{}"), null), circuit));

            Assert.Equal((1, 2, 2), (tally.Accepted, tally.NotSent, tally.Failed));
            Assert.Contains("Of its 5 row(s): 1 run(s) started", tally.ServiceStopped(journaled: true));
            Assert.Contains("2 not sent", tally.ServiceStopped(journaled: true)); // the counts add up to the rows read
            Assert.Contains("-JournalPath", tally.ServiceStopped(journaled: true));
            Assert.Null(BatchTally.NotWritten(Array.Empty<string>(), Array.Empty<string>(), journaled: false));
            Assert.Contains("m1, m2", BatchTally.NotWritten(new[] { "m1", "m2" }, Array.Empty<string>(), journaled: false));
        }

        [Theory]
        [InlineData(new int[0], "")]
        [InlineData(new[] { 4 }, "row 4")]
        [InlineData(new[] { 11, 12, 13, 14 }, "rows 11-14")]
        [InlineData(new[] { 14, 12, 11, 13, 20, 23, 22, 24 }, "rows 11-14, 20 and 22-24")] // out of order, as outcomes complete
        [InlineData(new[] { 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 20 }, "rows 1, 3, 5, 7, 9, 11, 13, 15 and 3 more")]
        public void RowRangesNameTheRowsNotSentShortly(int[] rows, string expected)
        {
            var ranges = new RowRanges();
            foreach (int row in rows) ranges.Add(row);
            foreach (int row in rows.Take(2)) ranges.Add(row); // a row counted twice is still one

            Assert.Equal(expected, ranges.ToString());
            Assert.Equal(rows.Length, ranges.Count);
        }

        [Fact]
        public void RowRangesStayFlatForAnyNumberOfRows()
        {
            var ranges = new RowRanges();
            for (int row = 1; row <= 200_000; row += 2) ranges.Add(row); // no two adjacent: a range each
            Assert.Equal(100_000, ranges.Count);
            Assert.EndsWith(" and 99992 more", ranges.ToString());
        }

        [Fact]
        public void TheStopsErrorNamesTheRowsNotSentAndCountsEveryRowRead()
        {
            BatchCircuit circuit = Circuit();
            var tally = new BatchTally();
            var unauthorized = new NenException(NenErrorIds.Unauthorized, NenErrorCategory.AuthenticationError, "HTTP 401");
            for (int row = 1; row <= 10; row++)
            {
                tally.Read();
                tally.Count(new SubmissionOutcome(Requests.Echo(), SubmissionStatus.Accepted, new RunAccepted("m" + row, TestEmulator.EchoWorkflow, null, DateTimeOffset.UtcNow, "{}"), null), circuit);
            }
            circuit.Refused(unauthorized);
            for (int row = 11; row <= 14; row++)
            {
                tally.Read();
                var request = Requests.Echo();
                request.Row = row;
                tally.Count(new SubmissionOutcome(request, SubmissionStatus.Failed, null, row == 11 ? unauthorized : NenNotSentException.GateClosed(unauthorized)), circuit);
            }
            for (int row = 15; row <= 30; row++) tally.NotSentAfterStop(tally.Read()); // read after the stop: not sent

            string message = tally.ServiceStopped(journaled: false);
            Assert.Contains("Of its 30 row(s): 10 run(s) started and written to the pipeline", message);
            Assert.Contains("20 not sent (rows 11-30; nothing was started for them)", message);
            Assert.DoesNotContain("not read", message);
            Assert.Contains("Rows after these were not read", tally.ServiceStopped(journaled: false, allRead: false));
        }

        [Fact]
        public async Task RowsNotSentBecauseTheBatchStoppedAreNotJournaledSoTheReRunSendsThem()
        {
            string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "nenai-circuit-" + Guid.NewGuid().ToString("N") + ".jsonl");
            try
            {
                await using var emu = await TestEmulator.StartAsync(c => c.Faults = new FaultSettings { LatencyMs = 20, ApplyTo = "post" });
                using (var journal = RunJournal.Open(path))
                using (var submitter = new BatchSubmitter(emu.Client(apiKey: "not-a-key"), maxConcurrency: 4, journal))
                {
                    await foreach (var _ in submitter.SubmitAllAsync(Enumerable.Range(1, 40).Select(i => Requests.KeyedEcho(i, batchId: journal.BatchId)))) { }
                }
                using (var journal = RunJournal.Open(path))
                using (var submitter = new BatchSubmitter(emu.Client(), maxConcurrency: 4, journal))
                {
                    Assert.InRange(journal.Count, 1, 4); // the refused ones, journaled as failed; the rest not at all
                    Assert.All(Enumerable.Range(1, 40), i => Assert.Equal(JournalDecision.Submit, journal.Decide(Requests.KeyedEcho(i).RowKey!, false)));
                    int accepted = 0;
                    await foreach (var o in submitter.SubmitAllAsync(Enumerable.Range(1, 40).Select(i => Requests.KeyedEcho(i, batchId: journal.BatchId))))
                        if (o.Status == SubmissionStatus.Accepted) accepted++;
                    Assert.Equal(40, accepted);
                }
                Assert.Equal(40, emu.State.Ledger.Count);
            }
            finally
            {
                System.IO.File.Delete(path);
            }
        }
    }
}
