using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Errors;

namespace NenAi.Core.Http
{
    /// <summary>
    /// Rate limits are shared by a whole batch. When the service answers 429/503, or cannot be reached at all,
    /// every sender waits out one back-off (the server's Retry-After, with jitter); then a single request probes,
    /// and the others follow once it has an answer. Answers to requests sent before the current pause do not start
    /// new pauses. The gate closes for good (nothing more is sent; every waiting sender learns its request was not
    /// sent, so a re-run may send it) only in a storm that outlasts the retry budget: the budget's worth of probes
    /// refused, with nothing but refusals in between; or refusals for longer than the retry duration (a Retry-After
    /// beyond it included). Busy-but-working services, which refuse some requests and accept others, never close it.
    /// </summary>
    public sealed class ThrottleGate
    {
        private readonly object _gate = new object();
        private readonly int _maxEpisodes;
        private readonly TimeSpan? _maxDuration;
        private readonly TimeSpan _baseDelay;
        private readonly int _stormSize;
        private readonly Func<TimeSpan> _clock;
        private TaskCompletionSource<bool> _changed = NewSignal();
        private long _epoch;
        private TimeSpan _pausedUntil;
        private bool _probeNeeded, _probeOut;
        private int _episodes, _refusedInARow;
        private TimeSpan? _streakStart;
        private NenException? _closed;
        private string? _closedHow;

        /// <param name="maxEpisodes">Pauses in a row (each after a refused probe) the budget allows; int.MaxValue: never close on a count.</param>
        /// <param name="maxDuration">How long refusals may go on without any answer; null: no limit.</param>
        public ThrottleGate(int maxEpisodes, TimeSpan? maxDuration, TimeSpan baseDelay, Func<TimeSpan>? clock = null)
        {
            _maxEpisodes = Math.Max(0, maxEpisodes);
            _maxDuration = maxDuration;
            _baseDelay = baseDelay;
            // A storm, not bad luck: this many refusals in a row has a chance of 0.2^12 (≈ 4e-9) when a fifth of requests are refused.
            _stormSize = _maxEpisodes >= int.MaxValue / 2 ? int.MaxValue : Math.Max(12, 2 * (_maxEpisodes + 1));
            if (clock is null)
            {
                var sw = Stopwatch.StartNew();
                clock = () => sw.Elapsed;
            }
            _clock = clock;
        }

        /// <summary>A batch's gate with the client's retry budget (-MaximumRetryCount and the retry duration).</summary>
        public static ThrottleGate For(Configuration.NenClientOptions options) =>
            new ThrottleGate(options.MaximumRetryCount, options.MaximumRetryDuration, options.RetryBaseDelay);

        /// <summary>A gate that pauses but never closes (waiting costs nothing while paused; callers bound their own retries).</summary>
        public static ThrottleGate PauseOnly(Configuration.NenClientOptions options) =>
            new ThrottleGate(int.MaxValue, null, options.RetryBaseDelay);

        /// <summary>Why the gate closed, once it has.</summary>
        public NenException? ClosedBecause { get { lock (_gate) return _closed; } }

        /// <summary>Pauses started so far (for diagnostics and tests).</summary>
        public long Pauses { get { lock (_gate) return _epoch; } }

        /// <summary>Waits until this sender may send; throws <see cref="NenNotSentException"/> once the gate is closed.</summary>
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
                using (var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    Task delay = Task.Delay(wait, timer.Token);
                    await Task.WhenAny(changed, delay).ConfigureAwait(false);
                    timer.Cancel(); // release the timer whichever finished first
                }
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        /// <summary>The service gave an answer that is not a refusal (success, or any other verdict).</summary>
        public void Answered(Admission admission)
        {
            lock (_gate)
            {
                // Any answer shows the service is serving: no storm.
                _refusedInARow = 0;
                _episodes = 0;
                _streakStart = null;
                if (admission.Epoch == _epoch && _probeNeeded) { _probeNeeded = false; _probeOut = false; Signal(); }
            }
        }

        /// <summary>
        /// A 429/503, or the service could not be reached (provably not sent). Returns null when the sender may enter
        /// again (after the pause), or the error to report when the storm outlasted the budget and the gate closed.
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
                TimeSpan delay = retryAfter.HasValue ? WithJitter(retryAfter.Value) : Backoff.Delay(_baseDelay, _episodes - 1);
                TimeSpan spent = now - _streakStart.Value;
                bool storm = _episodes > _maxEpisodes && _refusedInARow >= _stormSize;
                bool tooLong = _maxDuration.HasValue && spent + delay > _maxDuration.Value;
                if (storm || tooLong)
                {
                    _closedHow = $"The service refused every request for {spent.TotalSeconds:0.#} s ({_refusedInARow} in a row, {_episodes - 1} pause(s))"
                        + (retryAfter.HasValue ? $" and asked to wait another {retryAfter.Value.TotalSeconds:0.#} s" : string.Empty)
                        + ", beyond the retry budget, so this batch stopped sending.";
                    CloseLocked(Extended(cause, _closedHow));
                    return Extended(cause, _closedHow);
                }
                _epoch++;
                _pausedUntil = now + delay;
                _probeNeeded = true;
                _probeOut = false;
                Signal();
                return null;
            }
        }

        /// <summary>The attempt ended without an answer (an ambiguous failure, a cancellation): let another probe.</summary>
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
                _closedHow ??= reason.Message;
                CloseLocked(reason);
            }
        }

        private void CloseLocked(NenException reason)
        {
            if (_closed != null) return;
            _closed = reason;
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
        private static NenException Extended(NenException cause, string how) => cause.WithMessage(cause.Message + " " + how);

        /// <summary>Retry-After is a minimum: up to 10% more spreads the clients that were told the same.</summary>
        private static TimeSpan WithJitter(TimeSpan retryAfter) =>
            retryAfter + TimeSpan.FromMilliseconds(retryAfter.TotalMilliseconds * 0.1 * Backoff.NextDouble());
    }

    /// <summary>Permission to send one request through a <see cref="ThrottleGate"/>.</summary>
    public readonly struct Admission
    {
        internal Admission(long epoch, bool probe)
        {
            Epoch = epoch;
            Probe = probe;
        }

        internal long Epoch { get; }
        /// <summary>This request tests the water after a pause; the others wait for its answer.</summary>
        public bool Probe { get; }
    }
}
