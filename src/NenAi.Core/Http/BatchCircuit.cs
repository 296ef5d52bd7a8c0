using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Errors;

namespace NenAi.Core.Http
{
    /// <summary>
    /// The one circuit every request of a batch (a command) goes through, so every "the service is not working"
    /// signal is judged in one place:
    /// <list type="bullet">
    /// <item>429/503, or a service that cannot be reached: every sender waits out one back-off (the server's
    /// Retry-After, with jitter); then a single request probes, and the others follow once it has an answer. Answers
    /// to requests sent before the current pause do not start new pauses. The retry budget is a time budget: a storm
    /// of 429/503 is waited out for as long as it lasts (however many pauses that takes) until refusals with no answer
    /// in between have gone on for the retry duration, or the service asks to wait beyond it; then the circuit trips.
    /// A service that cannot be reached at all also trips it once the budget's count of probes found no server (a
    /// real outage, or a wrong address, is told within seconds). A busy service that refuses some requests and
    /// accepts others never trips it.</item>
    /// <item>An ambiguous failure (5xx, a reset or timeout after sending): new requests wait while one probes; a few in
    /// a row (<see cref="DefaultFailureLimit"/>, counting the requests already on the wire) trip the circuit, so an
    /// outage costs a handful of requests, not one per row.</item>
    /// <item>A read's ambiguous failure (a GET's 5xx or 408, a reset, a timeout or a stalled download): new reads wait
    /// while one probes, each probe after a longer back-off, so an outage costs a few requests, not a poll per run per
    /// interval. A streak of several items' failures (one item's alone are its own) that outlasts
    /// <see cref="ReadOutageWindow"/>, or whose probe timed out too (two request timeouts in a row), trips the circuit: the
    /// service is down. A shorter burst is ridden out.</item>
    /// <item>Refused credentials (401, 403, 407), a base URL that is not the API's (a bare 404, or a redirect, which is never
    /// followed) or a proxy that turns the request away (<see cref="ProxyRefusedException"/>): the first trips the circuit
    /// at once; every request would be answered the same way.</item>
    /// <item>Answers that are not the API's (<see cref="ForeignAnswers"/>: a page or body that is not its JSON, a status its
    /// contract does not define) count as an outage's failures do: a POST's with <see cref="Failed"/>, a read's with
    /// <see cref="ReadFailed"/>, where a few in a row from several items trip the circuit without waiting out the
    /// window (a captive portal answers at once, and answers every request alike).</item>
    /// </list>
    /// Once tripped, nothing more is sent: every waiting sender learns its request was not sent (so a re-run may send
    /// it), and <see cref="ClosedBecause"/> says why.
    /// </summary>
    public sealed class BatchCircuit
    {
        /// <summary>Ambiguous failures in a row, with no answer in between, that mean the service is down.</summary>
        public const int DefaultFailureLimit = 5;

        private readonly object _gate = new object();
        private readonly int _maxEpisodes;
        private readonly TimeSpan? _maxDuration;
        private readonly TimeSpan _baseDelay;
        private readonly int _failureLimit;
        private readonly Func<TimeSpan> _clock;
        private TaskCompletionSource<bool> _changed = NewSignal();
        private long _epoch;
        private TimeSpan _pausedUntil;
        private bool _probeNeeded, _probeOut;
        private int _episodes, _refusedInARow, _failedInARow;
        /// <summary>A request sent after the current streak of failures began has failed too.</summary>
        private bool _probeFailedInStreak;
        /// <summary>Pauses in a row whose probe found no server at all (connection refused, name not found).</summary>
        private int _unreachableEpisodes;
        private TimeSpan? _streakStart;
        /// <summary>429/503 pause the batch but never trip it (a waiter); a service that cannot be reached still does.</summary>
        private bool _answersRefusalsForever;
        private NenException? _closed;
        private string? _closedHow;
        private CircuitTrip _trip;
        /// <summary>When the current streak of read failures began (null: none); reads admitted since are its probes.</summary>
        private TimeSpan? _readStreakStart;
        private long _readStreakEpoch;
        private int _readsFailedInARow, _readProbesFailed;
        /// <summary>The first file of the streak, and whether another item (a file, any API read) has failed in it since.</summary>
        private string? _readStreakItem;
        private bool _readStreakSpreads;

        /// <param name="maxEpisodes">Pauses in a row whose probe found no server at all that the budget allows (429/503 are bounded by time alone); int.MaxValue: never trip on a count.</param>
        /// <param name="maxDuration">How long refusals may go on without any answer (the retry budget); null: no limit.</param>
        /// <param name="failureLimit">Ambiguous failures in a row that trip the circuit; int.MaxValue: never.</param>
        public BatchCircuit(int maxEpisodes, TimeSpan? maxDuration, TimeSpan baseDelay, Func<TimeSpan>? clock = null, int failureLimit = DefaultFailureLimit)
        {
            _maxEpisodes = Math.Max(0, maxEpisodes);
            _maxDuration = maxDuration;
            _baseDelay = baseDelay;
            _failureLimit = Math.Max(1, failureLimit);
            if (clock is null)
            {
                var sw = Stopwatch.StartNew();
                clock = () => sw.Elapsed;
            }
            _clock = clock;
        }

        /// <summary>A batch's circuit with the client's retry budget (-RetryBudgetSec; -MaximumRetryCount for a service that cannot be reached).</summary>
        public static BatchCircuit For(Configuration.NenClientOptions options) =>
            new BatchCircuit(options.MaximumRetryCount, options.MaximumRetryDuration, options.RetryBaseDelay);

        /// <summary>
        /// A waiter's circuit: it pauses on 429/503 as long as the service asks (waiting costs nothing while paused, and
        /// -TimeoutSec bounds it) and leaves ambiguous failures to each run's own retries, but trips on refused
        /// credentials and on a service that cannot be reached at all beyond the retry budget, so a wait on a service
        /// that is down ends with one error instead of minutes per run.
        /// </summary>
        public static BatchCircuit ForWaiting(Configuration.NenClientOptions options) =>
            new BatchCircuit(options.MaximumRetryCount, options.MaximumRetryDuration, options.RetryBaseDelay, failureLimit: int.MaxValue) { _answersRefusalsForever = true };

        /// <summary>
        /// How long reads (status queries, downloads) may fail in a row, with no answer in between, before the service is
        /// taken to be down and the circuit trips; null (the default): an outage never trips it, reads only wait while one
        /// probes (answers that are not the API's, a few in a row for several items, still do).
        /// A batch that should stop at an outage sets it (<see cref="ReadOutageWindowFor"/>).
        /// </summary>
        public TimeSpan? ReadOutageWindow { get; set; }

        /// <summary>The shortest streak of read failures taken for an outage, whatever the retry settings: a burst is ridden out.</summary>
        public static readonly TimeSpan MinimumReadOutage = TimeSpan.FromSeconds(10);

        /// <summary>
        /// The read outage window of <paramref name="options"/>: as long as one read's own retries may take (the back-off
        /// of -MaximumRetryCount retries, 15.5 s by default), at least <see cref="MinimumReadOutage"/>, at most the retry
        /// duration.
        /// </summary>
        public static TimeSpan ReadOutageWindowFor(Configuration.NenClientOptions options)
        {
            double ms = 0;
            for (int retry = 0; retry < options.MaximumRetryCount; retry++)
                ms += Math.Min(options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(retry, 16)), Backoff.Max.TotalMilliseconds);
            var window = TimeSpan.FromMilliseconds(Math.Max(ms, MinimumReadOutage.TotalMilliseconds));
            return window < options.MaximumRetryDuration ? window : options.MaximumRetryDuration;
        }

        /// <summary>Why the circuit tripped, once it has: the cause's id and category, with what happened.</summary>
        public NenException? ClosedBecause { get { lock (_gate) return _closed; } }

        /// <summary>What tripped the circuit (<see cref="CircuitTrip.None"/> while it sends).</summary>
        public CircuitTrip Trip { get { lock (_gate) return _trip; } }

        /// <summary>True once the service itself stopped the batch (refusals, failures, credentials or a wrong address), not the caller.</summary>
        public bool TrippedByService
        {
            get { lock (_gate) return _trip != CircuitTrip.None && _trip != CircuitTrip.Stopped; }
        }

        /// <summary>
        /// True when the service stopped the batch and <paramref name="error"/> is its reason, or the same answer that every
        /// request gets met by one on the wire with it (another 401 of the refused key, another 429 of the storm): counted
        /// in the one error that ends the batch, not an error of its own. (After an outage's failures, the requests on the
        /// wire are not sent again: they learn so as <see cref="NenNotSentException"/>.)
        /// </summary>
        public bool StoppedBy(NenException error)
        {
            lock (_gate)
                return _trip != CircuitTrip.None && _trip != CircuitTrip.Stopped
                    && (ReferenceEquals(error, _closed) || (_trip != CircuitTrip.Failures && error.ErrorId == _closed!.ErrorId));
        }

        /// <summary>Pauses started so far (for diagnostics and tests).</summary>
        public long Pauses { get { lock (_gate) return _epoch; } }

        /// <summary>Waits until this sender may send; throws <see cref="NenNotSentException"/> once the circuit has tripped.</summary>
        public async Task<Admission> EnterAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                Task changed;
                TimeSpan wait;
                lock (_gate)
                {
                    if (_closed != null) throw NenNotSentException.GateClosed(_closed);
                    TimeSpan now = _clock();
                    if (now >= _pausedUntil)
                    {
                        if (!_probeNeeded) return new Admission(_epoch, probe: false);
                        if (!_probeOut)
                        {
                            _probeOut = true;
                            return new Admission(_epoch, probe: true);
                        }
                        wait = Timeout.InfiniteTimeSpan; // the probe's answer decides
                    }
                    else wait = _pausedUntil - now;
                    changed = _changed.Task;
                }
                await ChangeOrDelayAsync(changed, wait, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>The service gave an answer that is not a refusal (success, or any other verdict on the request).</summary>
        public void Answered(Admission admission)
        {
            lock (_gate)
            {
                // Any answer shows the service is serving: no storm, no outage.
                _refusedInARow = 0;
                _episodes = 0;
                _unreachableEpisodes = 0;
                _streakStart = null;
                _failedInARow = 0;
                _probeFailedInStreak = false;
                EndReadStreakLocked();
                // Only an answer to a request sent since the pause began (the probe) reopens the batch: an answer to one sent
                // before (still on the wire when the outage began) shows the service served then, not that it serves now.
                if (_probeNeeded && admission.Epoch == _epoch) EndProbeLocked();
            }
        }

        /// <summary>
        /// A 429/503, or the service could not be reached (provably not sent). Returns null when the sender may enter
        /// again (after the pause), or the error to report when the storm outlasted the budget and the circuit tripped.
        /// </summary>
        public NenException? Throttled(Admission admission, TimeSpan? retryAfter, NenException cause)
        {
            lock (_gate)
            {
                if (_closed != null) return Extended(cause, _closedHow!);
                TimeSpan now = _clock();
                _refusedInARow++;
                _streakStart ??= now;
                if (admission.Epoch != _epoch)
                {
                    // Sent before the current pause began: no new pause, but the server's wish still holds.
                    if (retryAfter.HasValue && now + retryAfter.Value > _pausedUntil) _pausedUntil = now + retryAfter.Value;
                    return null;
                }
                _episodes++;
                TimeSpan delay = PauseFor(retryAfter, _episodes - 1);
                TimeSpan spent = now - _streakStart.Value;
                // A service that answers 429/503 is waited out for the budget's time, however many pauses that takes. One
                // that cannot be reached at all (every probe of the budget's count of pauses found no server) is an outage
                // or a wrong address: that is enough, it is not waited out for minutes.
                _unreachableEpisodes = cause is NenTransportException ? _unreachableEpisodes + 1 : 0;
                bool unreachable = _unreachableEpisodes > _maxEpisodes;
                bool tooLong = _maxDuration.HasValue && spent + delay > _maxDuration.Value;
                bool mayTrip = !_answersRefusalsForever || cause is NenTransportException; // the server answering 429 is still a server
                if (mayTrip && (unreachable || tooLong))
                {
                    // "The service" only when it answered: a request that found no server (or no proxy) got no answer at all.
                    string budget = _maxDuration.HasValue ? $" of {_maxDuration.Value.TotalSeconds:0.#} s (-RetryBudgetSec)" : string.Empty;
                    bool asked = retryAfter.HasValue && retryAfter.Value > TimeSpan.Zero;
                    string how = (cause is NenTransportException
                            ? $"No request got through for {spent.TotalSeconds:0.#} s ({_refusedInARow} attempt(s) in a row, {_episodes - 1} pause(s))"
                            : _episodes == 1 && asked ? "The service refused the request"
                            : $"The service refused every request for {spent.TotalSeconds:0.#} s ({_refusedInARow} in a row, {_episodes - 1} pause(s))")
                        + (asked ? $" and asked to wait {(_episodes == 1 ? string.Empty : "another ")}{retryAfter!.Value.TotalSeconds:0.#} s" : string.Empty)
                        + (tooLong ? $", beyond the retry budget{budget}" : $", beyond the retry budget (-MaximumRetryCount {_maxEpisodes})")
                        + ", so this batch stopped sending.";
                    return TripLocked(CircuitTrip.Refusals, cause, how);
                }
                StartProbeLocked(now + delay);
                return null;
            }
        }

        /// <summary>
        /// The request failed ambiguously (5xx, a reset or timeout after it was sent). New requests wait while one
        /// probes; returns the circuit's reason when this failure was one too many in a row and tripped it, else null.
        /// </summary>
        /// <param name="counted">False for a request answered as it was before (the same row sent again as the streak's
        /// probe): its failure shows the probe failed, but it is not a second request of the streak.</param>
        public NenException? Failed(Admission admission, NenException cause, bool counted = true)
        {
            lock (_gate)
            {
                if (_closed != null) return null;
                _refusedInARow = 0;
                _episodes = 0;
                _unreachableEpisodes = 0;
                _streakStart = null;
                // Requests on the wire together fail together (resets come back before slow successes do), so a streak
                // trips only once a request sent after it began (the probe) has failed too: an outage, not a burst.
                if (_probeNeeded && admission.Epoch == _epoch) _probeFailedInStreak = true;
                if (counted) _failedInARow++;
                if (_failedInARow >= _failureLimit && _probeFailedInStreak)
                {
                    string how = ForeignAnswers.IsForeign(cause) ? NotTheApi(_failedInARow, "this batch stopped sending")
                        : cause is NenTransportException
                        ? $"{_failedInARow} requests in a row failed this way with no answer: the service, or the network or proxy on the way to it, is not working, so this batch stopped sending."
                        : $"{_failedInARow} requests in a row failed this way with no answer in between: the service is not working, so this batch stopped sending.";
                    return TripLocked(CircuitTrip.Failures, cause, how);
                }
                if (_failureLimit == int.MaxValue) return null; // failures are each caller's own business here
                if (!_probeNeeded) StartProbeLocked(_pausedUntil);
                else if (admission.Probe && admission.Epoch == _epoch && _probeOut)
                {
                    _probeOut = false; // the probe failed too: the next sender probes
                    Signal();
                }
                return null;
            }
        }

        /// <summary>
        /// A read (a GET, a download) failed ambiguously: a 5xx or 408, a reset, a timeout, a stall, or storage that no
        /// connection reached. The first failure starts a streak, and new reads wait while one probes. Failures of one
        /// item alone (one run's status, one link whose host is gone) are that item's own: its retries pace and end them.
        /// Once several items fail in the streak, the service is failing for all: each probe that fails too pauses every
        /// read for a longer back-off, and a streak that outlasts <see cref="ReadOutageWindow"/>, or whose probe got no
        /// answer within the request timeout either (the second timeout in a row), trips the circuit.
        /// Returns the circuit's reason when this failure tripped it (the read must not be tried again), else null.
        /// </summary>
        /// <param name="item">What was read (a run's address, a file), so that one item's failures are told from everyone's.</param>
        public NenException? ReadFailed(Admission admission, NenException cause, string item)
        {
            lock (_gate)
            {
                if (_closed != null) return null;
                TimeSpan now = _clock();
                _readsFailedInARow++;
                if (_readStreakItem != null && !_readStreakSpreads && !string.Equals(item, _readStreakItem, StringComparison.Ordinal))
                {
                    _readStreakSpreads = true;
                    Signal(); // a read waiting for the streak's verdict (KeepReadingAsync) learns that it is everyone's
                }
                _readStreakItem ??= item;
                if (_readStreakStart is null)
                {
                    _readStreakStart = now;
                    StartProbeLocked(Later(now, _pausedUntil));
                    _readStreakEpoch = _epoch;
                    return null;
                }
                // Sent before the streak began (still on the wire when it did): it fails with the others, and says nothing new.
                if (admission.Epoch < _readStreakEpoch) return null;
                if (!_readStreakSpreads)
                {
                    StartProbeLocked(Later(now, _pausedUntil)); // one item's own trouble: its own back-off paces it
                    return null;
                }
                _readProbesFailed++;
                TimeSpan pause = Backoff.Delay(_baseDelay, _readProbesFailed - 1);
                TimeSpan spent = now - _readStreakStart.Value;
                // A probe that waited out the whole request timeout too (no answer, or a body that stalled) is the second
                // timeout in a row: a service that hangs is down, and waiting on costs a timeout per request.
                bool hung = cause.ErrorId == NenErrorIds.Timeout && cause.StatusCode is null;
                // Answers that are not the API's come at once and alike for every request: a few in a row are enough.
                // (Without a read outage window too: a webhook receiver's polling stops, its runs left to their webhooks.)
                if (ForeignAnswers.IsForeign(cause) && _readsFailedInARow >= DefaultFailureLimit)
                    return TripLocked(CircuitTrip.Failures, cause, NotTheApi(_readsFailedInARow, "no more requests were sent"));
                if (ReadOutageWindow is TimeSpan window && (hung || spent + pause > window))
                {
                    string how = hung
                        ? $"{_readsFailedInARow} requests in a row timed out (no answer, or no data, within the request timeout), the last one sent after the others had: the service is not working, so no more requests were sent."
                        : $"{_readsFailedInARow} requests in a row failed this way over {spent.TotalSeconds:0.#} s with no answer in between: the service is not working, so no more requests were sent.";
                    return TripLocked(CircuitTrip.Failures, cause, how);
                }
                StartProbeLocked(Later(now + pause, _pausedUntil));
                return null;
            }
        }

        /// <summary>
        /// Asked by a read whose own retries are spent. True: keep trying (the failure is everyone's and the circuit will
        /// judge it, or the circuit has stopped, which the next <see cref="EnterAsync"/> says). False: give up alone (no
        /// streak, or an answer ended it, or it stayed one item's own for the whole <see cref="ReadOutageWindow"/>). While
        /// the streak is one item's only, it waits (sending nothing) for another item's failure or an answer: reads that
        /// were on the wire together fail a moment apart, and the first to run out must not be an error of its own.
        /// </summary>
        /// <param name="within">At most this long (null: the whole window).</param>
        public async Task<bool> KeepReadingAsync(CancellationToken cancellationToken, TimeSpan? within = null)
        {
            TimeSpan? until = within.HasValue ? _clock() + within.Value : (TimeSpan?)null;
            while (true)
            {
                Task changed;
                TimeSpan wait;
                lock (_gate)
                {
                    if (_closed != null) return true;
                    if (!(ReadOutageWindow is TimeSpan window) || _readStreakStart is null) return false;
                    if (_readStreakSpreads) return true;
                    TimeSpan end = _readStreakStart.Value + window;
                    if (until.HasValue && until.Value < end) end = until.Value;
                    wait = end - _clock();
                    if (wait <= TimeSpan.Zero) return false;
                    changed = _changed.Task;
                }
                await ChangeOrDelayAsync(changed, wait, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// After <see cref="Failed"/>: waits, at most <paramref name="within"/>, for the verdict on that failure. True when
        /// the circuit stopped the batch meanwhile (the failure was everyone's); false when another request was answered
        /// (the streak is broken: the failure was the sender's own) or the time ran out (nobody else is sending).
        /// </summary>
        public async Task<bool> AwaitFailureVerdictAsync(CancellationToken cancellationToken, TimeSpan within)
        {
            TimeSpan until = _clock() + within;
            while (true)
            {
                Task changed;
                TimeSpan wait;
                lock (_gate)
                {
                    if (_closed != null) return true;
                    if (_failedInARow == 0) return false;
                    wait = until - _clock();
                    if (wait <= TimeSpan.Zero) return false;
                    changed = _changed.Task;
                }
                // An answer to a request sent before the streak breaks it without a signal: look again now and then.
                if (wait > VerdictLook) wait = VerdictLook;
                await ChangeOrDelayAsync(changed, wait, cancellationToken).ConfigureAwait(false);
            }
        }

        private static readonly TimeSpan VerdictLook = TimeSpan.FromMilliseconds(50);

        /// <summary>The one wait of every waiter here: until the circuit changes or <paramref name="wait"/> passes; throws once cancelled.</summary>
        private static async Task ChangeOrDelayAsync(Task changed, TimeSpan wait, CancellationToken cancellationToken)
        {
            using (var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                await Task.WhenAny(changed, Task.Delay(wait, timer.Token)).ConfigureAwait(false);
                timer.Cancel(); // release the timer whichever finished first
            }
            cancellationToken.ThrowIfCancellationRequested();
        }

        /// <summary>True while requests fail in a row with no answer in between (a streak <see cref="Failed"/> started).</summary>
        public bool InFailureStreak { get { lock (_gate) return _closed == null && _failedInARow > 0; } }

        /// <summary>
        /// True while reads fail for several items at once and the circuit judges it (or it has stopped): a read so
        /// failing asks again instead of giving up alone. False when reads never trip the circuit (no <see cref="ReadOutageWindow"/>).
        /// </summary>
        public bool JudgesReads
        {
            get { lock (_gate) return _closed != null || (ReadOutageWindow.HasValue && _readStreakStart != null && _readStreakSpreads); }
        }

        /// <summary>Why answers that are not the API's stopped the batch, and what to check.</summary>
        private static string NotTheApi(int inARow, string stopped) =>
            $"{inARow} requests in a row were answered this way, not as the Nen API answers, with no answer of the API's in between: every request meets it, so {stopped}. "
            + "Check -BaseUri (or NEN_BASE_URL, or the session's), and a proxy or a network login page (captive portal) on the way, then run the same command again.";

        private void EndReadStreakLocked()
        {
            if (_readStreakStart is null) return;
            _readStreakStart = null;
            _readsFailedInARow = _readProbesFailed = 0;
            _readStreakItem = null;
            _readStreakSpreads = false;
            Signal(); // a read waiting for the streak's verdict learns that it was its own
        }

        private static TimeSpan Later(TimeSpan a, TimeSpan b) => a > b ? a : b;

        /// <summary>
        /// True for an answer every request of the batch would get too: refused credentials (401, 403, 407), or a base
        /// URL that is not the API's (NenEndpointNotFound: a 404 that is not the API's own; NenRedirected: a redirect).
        /// </summary>
        public static bool RefusesEveryRequest(string errorId) =>
            CredentialNames.IsRefusal(errorId) || errorId == NenErrorIds.EndpointNotFound || errorId == NenErrorIds.Redirected;

        /// <summary><see cref="RefusesEveryRequest(string)"/>, and a proxy that turned the request away (<see cref="ProxyRefusedException"/>).</summary>
        public static bool RefusesEveryRequest(NenException error) => error is ProxyRefusedException || RefusesEveryRequest(error.ErrorId);

        /// <summary>
        /// An answer every request would get too (<see cref="RefusesEveryRequest"/>), so the circuit trips at once;
        /// returns the reason, which names the credential refused (never its value) or the address to correct.
        /// </summary>
        public NenException Refused(NenException cause)
        {
            if (cause.ErrorId == NenErrorIds.EndpointNotFound)
                return TripNow(CircuitTrip.Address, cause, "Every request would go to the same wrong address, so this batch stopped sending. Correct -BaseUri (or NEN_BASE_URL, or the session's), then run the same command again.");
            if (cause.ErrorId == NenErrorIds.Redirected)
                return TripNow(CircuitTrip.Address, cause, "Every request would be redirected the same way, so this batch stopped sending; run the same command again once the base URL is corrected.");
            if (cause is ProxyRefusedException && cause.ErrorId != NenErrorIds.ProxyAuthenticationRequired)
                return TripNow(CircuitTrip.Proxy, cause, "Every request would be turned away by the proxy the same way, so this batch stopped sending. Check -Proxy (or the system proxy setting) and what the proxy allows, then run the same command again.");
            return TripNow(CircuitTrip.Credentials, cause,
                $"{CredentialNames.Refused(cause.ErrorId)}, and every request would be refused too, so this batch stopped sending. {CredentialNames.WhatToDo(cause.ErrorId)}");
        }

        /// <summary>Trips the circuit for <paramref name="cause"/>, unless it has tripped already (then the first reason stands).</summary>
        private NenException TripNow(CircuitTrip trip, NenException cause, string how)
        {
            lock (_gate) return _closed ?? TripLocked(trip, cause, how);
        }

        /// <summary>The attempt ended without an answer (a cancellation): let another probe.</summary>
        public void Abandoned(Admission admission)
        {
            lock (_gate)
            {
                if (admission.Probe && admission.Epoch == _epoch && _probeOut) { _probeOut = false; Signal(); }
            }
        }

        /// <summary>Stops all sending for good (a journal that cannot be written, say); waiting senders are told why.</summary>
        public void Close(NenException reason)
        {
            lock (_gate)
            {
                if (_closed != null) return;
                _closedHow = reason.Message;
                _trip = CircuitTrip.Stopped;
                _closed = reason;
                Signal();
            }
        }

        private NenException TripLocked(CircuitTrip trip, NenException cause, string how)
        {
            _closedHow = how;
            _trip = trip;
            _closed = Extended(cause, how);
            Signal();
            return _closed;
        }

        private void StartProbeLocked(TimeSpan pausedUntil)
        {
            _epoch++;
            _pausedUntil = pausedUntil;
            _probeNeeded = true;
            _probeOut = false;
            Signal();
        }

        private void EndProbeLocked()
        {
            _probeNeeded = false;
            _probeOut = false;
            Signal();
        }

        private void Signal()
        {
            TaskCompletionSource<bool> old = _changed;
            _changed = NewSignal();
            old.TrySetResult(true);
        }

        private static TaskCompletionSource<bool> NewSignal() => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The refusal that ended a sender's retries, with the reason appended (same id, category and type).</summary>
        private static NenException Extended(NenException cause, string how) => cause.WithMessage(Sentence.Join(cause.Message, how));

        /// <summary>
        /// The pause before the next probe: the server's Retry-After with jitter; without one (or "0", which asks for
        /// nothing), the exponential back-off, so a service that never says when is not probed in a tight loop.
        /// </summary>
        private TimeSpan PauseFor(TimeSpan? retryAfter, int pause) =>
            retryAfter.HasValue && retryAfter.Value > TimeSpan.Zero ? WithJitter(retryAfter.Value) : Backoff.Delay(_baseDelay, pause);

        /// <summary>Retry-After is a minimum: up to 10% more spreads the clients that were told the same.</summary>
        private static TimeSpan WithJitter(TimeSpan retryAfter) =>
            retryAfter + TimeSpan.FromMilliseconds(retryAfter.TotalMilliseconds * 0.1 * Backoff.NextDouble());
    }

    /// <summary>Permission to send one request through a <see cref="BatchCircuit"/>.</summary>
    public readonly struct Admission
    {
        internal Admission(long epoch, bool probe)
        {
            Epoch = epoch;
            Probe = probe;
        }

        internal long Epoch { get; }
        /// <summary>This request tests the water after a pause or a failure; the others wait for its answer.</summary>
        public bool Probe { get; }
    }
}
