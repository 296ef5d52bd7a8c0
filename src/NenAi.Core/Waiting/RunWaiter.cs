using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Logging;
using NenAi.Core.Models;

namespace NenAi.Core.Waiting
{
    /// <summary>
    /// Follows many runs at once. One scheduler loop keeps every pending run on a due-time queue, polls
    /// each at most once per interval (later when the server says Retry-After), with bounded concurrency,
    /// and reports each run as soon as it is terminal. Runs can be added while it waits; each run's deadline
    /// counts from when it joined. Polls share one <see cref="BatchCircuit"/>, so a 429/503 pauses them all, a failed poll
    /// makes the others wait while one probes, and refused credentials or (with <see cref="RunWaiterOptions.StopAtOutage"/>)
    /// a status outage stop the wait. Every added run gets exactly one outcome: transient failures are retried until the
    /// run's deadline or, without one, until <see cref="RunWaiterOptions.MaxConsecutiveFailures"/> polls in a row have
    /// failed. Once the wait stops (<see cref="Stop"/>, the first error with <see cref="RunWaiterOptions.StopAtFirstError"/>,
    /// or a tripped circuit) no new query leaves; the queries in flight finish, and every run not finished by then is
    /// reported <see cref="WaitOutcomeKind.Stopped"/>.
    /// A status learnt elsewhere (a webhook) can be <see cref="Report"/>ed: a terminal one ends the run without a
    /// request, so polling is only the safety net when <see cref="RunWaiterOptions.FirstPollDelay"/> delays it.
    /// </summary>
    public sealed class RunWaiter : IDisposable
    {
        private sealed class Tracked
        {
            public Tracked(string id, object? tag, long seq) { MessageId = id; Tag = tag; Seq = seq; }
            public string MessageId { get; }
            public object? Tag { get; }
            public long Seq { get; }
            public TimeSpan JoinedAt { get; set; }
            public TimeSpan? Deadline { get; set; }
            public TimeSpan Due { get; set; }
            public RunSnapshot? Last { get; set; }
            public int Polls { get; set; }
            public int ConsecutiveFailures { get; set; }
            /// <summary>The error of its last poll while its polls are failing (null once one is answered).</summary>
            public NenException? FailingBecause { get; set; }
            public bool InFlight { get; set; }
            public bool Done { get; set; }
            public bool PastDeadline(TimeSpan now) => Deadline.HasValue && now >= Deadline.Value;
        }

        private sealed class DueComparer : IComparer<Tracked>
        {
            public int Compare(Tracked? x, Tracked? y)
            {
                int c = x!.Due.CompareTo(y!.Due);
                return c != 0 ? c : x.Seq.CompareTo(y.Seq);
            }
        }

        /// <summary>How to go on with a run whose wait ran out: the command that does it.</summary>
        private const string Resume = "The run itself goes on: follow it again with Wait-NenRun (pipe the run, the status written with it, or -MessageId; "
            + "Get-NenRun -JournalPath lists a journaled batch's runs), then Get-NenRunResult.";

        /// <summary>A poll that ran into its run's deadline.</summary>
        private int _pollsFailingWarned;
        private static readonly NenException DeadlineReached = new NenException(NenErrorIds.WaitTimeout, NenErrorCategory.OperationTimeout, "deadline") { IsTransient = true };

        private readonly NenApiClient _client;
        private readonly RunWaiterOptions _options;
        private readonly INenLog _log;
        /// <summary>Set once no new query may leave.</summary>
        private volatile bool _stopping;
        /// <summary>Set (under the add lock) once the scheduler has ended: a run added later is reported at once.</summary>
        private bool _loopEnded;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly ConcurrentQueue<Tracked> _incoming = new ConcurrentQueue<Tracked>();
        private readonly ConcurrentQueue<(Tracked Run, RunSnapshot? Status, NenException? Error)> _polled = new ConcurrentQueue<(Tracked, RunSnapshot?, NenException?)>();
        private readonly ConcurrentQueue<(string MessageId, RunSnapshot Status)> _reports = new ConcurrentQueue<(string, RunSnapshot)>();
        private readonly SemaphoreSlim _wake = new SemaphoreSlim(0);
        private readonly ConcurrentQueue<WaitOutcome> _out = new ConcurrentQueue<WaitOutcome>();
        private readonly SemaphoreSlim _ready = new SemaphoreSlim(0);
        private readonly HashSet<string> _known = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        /// <summary>Runs being followed, by id, for <see cref="Report"/>; only the scheduler loop touches it.</summary>
        private readonly Dictionary<string, Tracked> _following = new Dictionary<string, Tracked>(StringComparer.OrdinalIgnoreCase);
        private readonly object _addGate = new object();
        private Task? _loop;
        private readonly ConcurrentDictionary<long, Task> _pollsInFlight = new ConcurrentDictionary<long, Task>();
        private long _pollIds;
        private long _seq;
        private int _untaken;
        private int _reported;
        private volatile bool _addingCompleted;
        private int _succeeded, _failed, _timedOut, _statusUnknown, _polls, _notFollowed;

        public RunWaiter(NenApiClient client, RunWaiterOptions? options = null, INenLog? log = null)
        {
            _client = client ?? throw new ArgumentNullException(nameof(client));
            _options = options ?? new RunWaiterOptions();
            if (_options.PollInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), "The poll interval must be positive.");
            if (_options.MaxConcurrency < 1) throw new ArgumentOutOfRangeException(nameof(options), "The concurrency must be at least 1.");
            if (_options.Timeout.HasValue && _options.Timeout.Value > TimeSpan.FromSeconds(RunWaiterOptions.MaxTimeoutSeconds))
                throw new ArgumentOutOfRangeException(nameof(options), $"The timeout can be at most {RunWaiterOptions.MaxTimeoutSeconds} s: the timers that keep it take at most Int32.MaxValue ms.");
            _log = RedactingLog.Wrap(log);
            // Polls share the pauses; each poll's own retries and MaxConsecutiveFailures bound a run. What stops a batch
            // stops the wait too (Start-NenRun's circuit: a storm beyond the retry budget, a service that cannot be reached,
            // and failures in a row beyond a read's retries), unless the caller only polls as a safety net: its circuit
            // waits out refusals for as long as the service asks, and lets each run give up on its own.
            if (_options.StopAtOutage)
            {
                Circuit = BatchCircuit.For(client.Options);
                Circuit.ReadOutageWindow = BatchCircuit.ReadOutageWindowFor(client.Options);
            }
            else Circuit = BatchCircuit.ForWaiting(client.Options);
        }

        /// <summary>The waiter's one circuit: pauses every query on 429/503 and while a probe tests a failing service; refused credentials, a service that cannot be reached (and, by default, a storm beyond the budget and an outage) stop the wait.</summary>
        public BatchCircuit Circuit { get; }

        public int Added { get; private set; }
        /// <summary>Runs added and not yet reported.</summary>
        public int Pending => Added - Volatile.Read(ref _reported);
        /// <summary>Runs reported with a final status (succeeded or failed).</summary>
        public int Completed => Succeeded + Failed;
        public int Succeeded => Volatile.Read(ref _succeeded);
        /// <summary>Runs the service said failed (a final status that is a failure); never a run whose status was not read.</summary>
        public int Failed => Volatile.Read(ref _failed);
        public int TimedOut => Volatile.Read(ref _timedOut);
        /// <summary>Runs reported <see cref="WaitOutcomeKind.Error"/>: their status could not be read (unavailable, unknown to the service, unreadable).</summary>
        public int StatusUnknown => Volatile.Read(ref _statusUnknown);
        /// <summary>Runs reported <see cref="WaitOutcomeKind.Stopped"/>: not followed to the end because the wait stopped.</summary>
        public int NotFollowed => Volatile.Read(ref _notFollowed);
        /// <summary>Status requests made so far.</summary>
        public int Polls => Volatile.Read(ref _polls);

        /// <summary>Adds a run to follow; a message id already added is ignored (returns false).</summary>
        /// <param name="known">A status the caller already holds: when it is terminal the run is reported without a request.</param>
        public bool Add(string messageId, object? tag = null, RunSnapshot? known = null)
        {
            if (string.IsNullOrWhiteSpace(messageId))
                throw new NenException(NenErrorIds.InvalidMessageId, NenErrorCategory.InvalidArgument, "The message id is empty.");
            lock (_addGate)
            {
                if (_addingCompleted) throw new InvalidOperationException("No run can be added after CompleteAdding.");
                if (!_known.Add(messageId.Trim())) return false;
                Added++;
                Interlocked.Increment(ref _untaken);
                var run = new Tracked(messageId.Trim(), tag, Interlocked.Increment(ref _seq)) { Last = known, JoinedAt = _clock.Elapsed };
                if (_loopEnded)
                {
                    NotFollowedAnyMore(run);
                    return true;
                }
                _incoming.Enqueue(run);
            }
            _wake.Release();
            return true;
        }

        /// <summary>
        /// A status of an added run learnt without a request (a verified webhook): a terminal one reports the run at
        /// once (a poll in flight is then ignored), any other becomes its last known status. A run already reported,
        /// or never added, is left alone.
        /// </summary>
        public void Report(string messageId, RunSnapshot status)
        {
            if (string.IsNullOrWhiteSpace(messageId) || status is null) return;
            _reports.Enqueue((messageId.Trim(), status));
            _wake.Release();
        }

        public void CompleteAdding()
        {
            lock (_addGate) _addingCompleted = true;
            _wake.Release();
        }

        /// <summary>No new query leaves; the ones in flight finish, and every run not finished then is reported Stopped.</summary>
        public void Stop()
        {
            _stopping = true;
            try { _wake.Release(); }
            catch (ObjectDisposedException) { }
        }

        /// <summary>Completes when the scheduler and every query it sent have ended (stopped or cancelled included).</summary>
        public Task WhenIdleAsync()
        {
            var work = new List<Task>(_pollsInFlight.Values);
            if (_loop != null) work.Add(_loop.ContinueWith(_ => { }, TaskScheduler.Default));
            return Task.WhenAll(work);
        }

        /// <summary>Starts the scheduler (idempotent). The token stops it.</summary>
        public void Start(CancellationToken cancellationToken)
        {
            lock (_addGate) _loop ??= Task.Run(() => LoopAsync(cancellationToken));
        }

        public bool TryTake(out WaitOutcome? outcome)
        {
            outcome = null;
            if (!_ready.Wait(0)) return false;
            _out.TryDequeue(out outcome);
            Interlocked.Decrement(ref _untaken);
            return true;
        }

        /// <summary>The next outcome, or null once adding is complete and every run has been taken.</summary>
        public async Task<WaitOutcome?> TakeAsync(CancellationToken cancellationToken = default)
        {
            if (_addingCompleted && Volatile.Read(ref _untaken) == 0) return null;
            Task wait = _ready.WaitAsync(cancellationToken);
            Task? loop = _loop;
            if (loop != null && await Task.WhenAny(wait, loop).ConfigureAwait(false) == loop && !wait.IsCompleted)
            {
                await loop.ConfigureAwait(false); // a stopped or broken scheduler surfaces here instead of hanging
                // It ended normally: adding is complete and every run is reported. A caller that began waiting
                // before that (while runs could still be added) has nothing left to take when all are taken.
                if (Volatile.Read(ref _untaken) == 0) return null;
            }
            await wait.ConfigureAwait(false);
            _out.TryDequeue(out WaitOutcome? outcome);
            Interlocked.Decrement(ref _untaken);
            return outcome;
        }

        /// <summary>Follows <paramref name="messageIds"/> to the end, yielding each run as it finishes.</summary>
        public async IAsyncEnumerable<WaitOutcome> WaitAllAsync(IEnumerable<string> messageIds, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            foreach (string id in messageIds) Add(id);
            CompleteAdding();
            Start(cancellationToken);
            WaitOutcome? next;
            while ((next = await TakeAsync(cancellationToken).ConfigureAwait(false)) != null) yield return next;
        }

        private async Task LoopAsync(CancellationToken ct)
        {
            var schedule = new SortedSet<Tracked>(new DueComparer());
            var byDeadline = new Queue<Tracked>(); // join order is deadline order: every run waits the same time
            int inFlight = 0;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                TimeSpan now = _clock.Elapsed;

                while (_incoming.TryDequeue(out Tracked? added))
                {
                    if (added.Last?.IsTerminal == true) { Finish(added, new WaitOutcome(added.MessageId, added.Tag, WaitOutcomeKind.Completed, added.Last, null)); continue; }
                    _following[added.MessageId] = added;
                    added.Due = now + _options.FirstPollDelay;
                    if (_options.Timeout.HasValue)
                    {
                        added.Deadline = added.JoinedAt + _options.Timeout.Value;
                        byDeadline.Enqueue(added);
                    }
                    schedule.Add(added);
                }
                while (_polled.TryDequeue(out var result))
                {
                    inFlight--;
                    result.Run.InFlight = false;
                    if (!result.Run.Done) Handle(result.Run, result.Status, result.Error, schedule, now); // else a report ended it meanwhile
                }
                while (_reports.TryDequeue(out var report))
                {
                    if (!_following.TryGetValue(report.MessageId, out Tracked? run) || run.Done) continue;
                    run.Last = report.Status;
                    if (!report.Status.IsTerminal) continue;
                    if (!run.InFlight) schedule.Remove(run);
                    Finish(run, new WaitOutcome(run.MessageId, run.Tag, WaitOutcomeKind.Completed, report.Status, null));
                }
                // Runs past their deadline that are not being asked about right now: report them with their last status.
                while (byDeadline.Count > 0)
                {
                    Tracked head = byDeadline.Peek();
                    if (!head.Done && !head.PastDeadline(now)) break;
                    byDeadline.Dequeue();
                    if (head.Done || head.InFlight) continue;   // a poll in flight ends at the deadline and is reported then
                    // Asked about or not: a run the concurrency limit or a long Retry-After kept waiting gets no
                    // query past its deadline, or those queries would queue one behind the other for minutes.
                    schedule.Remove(head);
                    EmitTimeout(head);
                }
                if (_addingCompleted && _incoming.IsEmpty && schedule.Count == 0 && inFlight == 0 && _following.Count == 0) return;
                if (Circuit.ClosedBecause != null)
                {
                    if (!_options.KeepWaitingWhenPollsFail) _stopping = true;
                    else schedule.Clear(); // no query can leave: each run waits for its report or its deadline
                }
                if (_stopping)
                {
                    if (inFlight > 0) { await _wake.WaitAsync(ct).ConfigureAwait(false); continue; } // the queries in flight finish
                    EndStopped(schedule);
                    return;
                }

                while (inFlight < _options.MaxConcurrency && schedule.Count > 0 && schedule.Min!.Due <= now)
                {
                    Tracked next = schedule.Min!;
                    schedule.Remove(next);
                    inFlight++;
                    next.InFlight = true;
                    next.Polls++;
                    long pollId = Interlocked.Increment(ref _pollIds);
                    _pollsInFlight[pollId] = PollAsync(next, next.Deadline - now, pollId, ct); // runs past their deadline were reported above
                }

                TimeSpan wait = System.Threading.Timeout.InfiniteTimeSpan;
                if (inFlight < _options.MaxConcurrency && schedule.Count > 0) wait = Max(schedule.Min!.Due - now, TimeSpan.Zero);
                while (byDeadline.Count > 0 && byDeadline.Peek().Done) byDeadline.Dequeue();
                if (byDeadline.Count > 0)
                {
                    TimeSpan untilDeadline = Max(byDeadline.Peek().Deadline!.Value - now, TimeSpan.Zero);
                    if (wait == System.Threading.Timeout.InfiniteTimeSpan || untilDeadline < wait) wait = untilDeadline;
                }
                if (wait != TimeSpan.Zero) await _wake.WaitAsync(wait, ct).ConfigureAwait(false);
            }
        }

        /// <summary>One status query; it gives up at the run's deadline (a hung request or a long pause cannot overrun it).</summary>
        private async Task PollAsync(Tracked run, TimeSpan? untilDeadline, long pollId, CancellationToken ct)
        {
            try
            {
                await PollOnceAsync(run, untilDeadline, ct).ConfigureAwait(false);
            }
            finally
            {
                _pollsInFlight.TryRemove(pollId, out _);
            }
        }

        private async Task PollOnceAsync(Tracked run, TimeSpan? untilDeadline, CancellationToken ct)
        {
            RunSnapshot? status = null;
            NenException? error = null;
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (untilDeadline.HasValue) deadline.CancelAfter(Max(untilDeadline.Value, TimeSpan.FromMilliseconds(1)));
            try
            {
                Interlocked.Increment(ref _polls);
                status = await _client.GetRunAsync(run.MessageId, deadline.Token, Circuit).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (OperationCanceledException)
            {
                error = DeadlineReached;
            }
            catch (NenException ex)
            {
                error = ex;
            }
            catch (Exception ex)
            {
                // Not something a retry can fix: this run gets a typed error instead of a poll loop for ever.
                error = new NenException(NenErrorIds.UnexpectedResponse, NenErrorCategory.InvalidResult, $"Following run {run.MessageId} failed unexpectedly: {ex.GetType().Name}.", ex);
            }
            _polled.Enqueue((run, status, error));
            _wake.Release();
        }

        private void Handle(Tracked run, RunSnapshot? status, NenException? error, SortedSet<Tracked> schedule, TimeSpan now)
        {
            if (status != null)
            {
                run.Last = status;
                run.ConsecutiveFailures = 0;
                run.FailingBecause = null;
                if (status.IsTerminal) { Finish(run, new WaitOutcome(run.MessageId, run.Tag, WaitOutcomeKind.Completed, status, null)); return; }
                // Past its deadline it had timed out before the stop, whatever stopped the wait first (-ErrorAction Stop and
                // another run's timeout): reported so, not as a run the wait no longer followed.
                if (run.PastDeadline(now) && (!_stopping || Circuit.ClosedBecause == null)) { EmitTimeout(run); return; }
                if (_stopping) { NotFollowedAnyMore(run); return; }
                TimeSpan delay = status.PollAfter.HasValue && status.PollAfter.Value > _options.PollInterval ? status.PollAfter.Value : _options.PollInterval;
                run.Due = now + delay;
                schedule.Add(run);
                return;
            }

            if (!ReferenceEquals(error, DeadlineReached)) run.FailingBecause = error;
            bool keep = _options.KeepWaitingWhenPollsFail;
            // A poll cut off at the run's deadline after another run's timeout stopped the wait (-ErrorAction Stop): the run
            // had timed out too, and is reported so (a loaded CI run reported it not followed, and its warning was lost).
            if (_stopping && Circuit.ClosedBecause == null && (run.PastDeadline(now) || ReferenceEquals(error, DeadlineReached))
                && (error!.IsTransient || error is NenNotSentException)) { EmitTimeout(run); return; }
            // Refused credentials trip the circuit: the wait stops, and this run is one it could not follow.
            if (_stopping || (Circuit.ClosedBecause != null && !keep)) { NotFollowedAnyMore(run, error); return; }
            // (A poll cut off at the deadline may be handled a moment before the clock reads the deadline.)
            if ((run.PastDeadline(now) || ReferenceEquals(error, DeadlineReached)) && (error!.IsTransient || error is NenNotSentException)) { EmitTimeout(run); return; }
            if (keep && Circuit.ClosedBecause != null)
            {
                // Not scheduled again: its report or its deadline ends it. A poll still on the wire at the deadline (whose run
                // the deadline check passed over) ends it now, whatever its error, or nothing would.
                if (run.PastDeadline(now)) EmitTimeout(run);
                return;
            }
            if (keep)
            {
                // Any failure, not only a transient one: an answer that is not the API's (a portal's page, a 418) that the
                // circuit has not yet judged everyone's, or one run's own answer (404 run_not_found, which a run just
                // started may get): its webhook may still come, so it is asked again later and ends by its report,
                // a poll that answers, or its deadline.
                _log.Verbose($"Run {run.MessageId}: {error!.ErrorId} ({++run.ConsecutiveFailures} in a row); asked again later.");
                // Polls failing for a while (a 5xx outage trips no circuit here): said once, as a stop of polling is.
                if (run.ConsecutiveFailures == _options.MaxConsecutiveFailures && Interlocked.Exchange(ref _pollsFailingWarned, 1) == 0)
                    _log.Warning($"Polling is failing: {run.ConsecutiveFailures} status queries in a row of run {run.MessageId} failed ({error.ErrorId}). " +
                        "The runs are still followed by their webhooks, and polled again at intervals" +
                        (_options.Timeout.HasValue ? $" until their wait of {_options.Timeout.Value.TotalSeconds:0.#} s runs out." : "."));
                run.Due = now + (error.RetryAfter.HasValue && error.RetryAfter.Value > _options.PollInterval ? error.RetryAfter.Value : _options.PollInterval);
                schedule.Add(run);
                return;
            }
            if (error is NenNotSentException || (error!.IsTransient && ++run.ConsecutiveFailures >= _options.MaxConsecutiveFailures))
            {
                Finish(run, new WaitOutcome(run.MessageId, run.Tag, WaitOutcomeKind.Error, run.Last, GaveUp(run, error)));
                return;
            }
            if (error.IsTransient)
            {
                // The run is not lost: it is asked about again, until it finishes, times out or the failures run out.
                _log.Warning($"Run {run.MessageId}: {error.ErrorId} ({run.ConsecutiveFailures} in a row); still waiting.");
                TimeSpan delay = error.RetryAfter.HasValue && error.RetryAfter.Value > _options.PollInterval ? error.RetryAfter.Value : _options.PollInterval;
                run.Due = now + delay;
                schedule.Add(run);
                return;
            }
            Finish(run, new WaitOutcome(run.MessageId, run.Tag, WaitOutcomeKind.Error, run.Last, error));
        }

        private NenException GaveUp(Tracked run, NenException last) =>
            new NenException(NenErrorIds.StatusUnavailable, NenErrorCategory.ResourceUnavailable,
                $"Stopped following run {run.MessageId}: its status could not be read" +
                (last is NenNotSentException ? string.Empty : $" in {run.ConsecutiveFailures} polls in a row") +
                $" ({last.Message}). The run itself is not affected: follow it again later with Wait-NenRun.", last)
            { StatusCode = last.StatusCode };

        private void EmitTimeout(Tracked run)
        {
            Interlocked.Increment(ref _timedOut);
            // The poll failure that kept its status from being read, when its last polls failed (its inner exception).
            var error = new NenException(NenErrorIds.WaitTimeout, NenErrorCategory.OperationTimeout,
                run.Last != null
                    ? $"Run {run.MessageId} had not finished when its wait of {_options.Timeout?.TotalSeconds:0.#} s ran out; its last status was '{run.Last.Status}'. {Resume}"
                    : $"Run {run.MessageId}: its wait of {_options.Timeout?.TotalSeconds:0.#} s ran out before its status could be read. {Resume}",
                run.FailingBecause);
            Finish(run, new WaitOutcome(run.MessageId, run.Tag, WaitOutcomeKind.TimedOut, run.Last, error));
        }

        /// <summary>The wait stopped: every run still scheduled or still arriving is reported Stopped, once.</summary>
        private void EndStopped(SortedSet<Tracked> schedule)
        {
            foreach (Tracked run in schedule) NotFollowedAnyMore(run);
            schedule.Clear();
            foreach (Tracked run in new List<Tracked>(_following.Values)) NotFollowedAnyMore(run); // runs no poll waits for (KeepWaitingWhenPollsFail)
            lock (_addGate)
            {
                _loopEnded = true;
                while (_incoming.TryDequeue(out Tracked? added)) NotFollowedAnyMore(added);
            }
        }

        private void NotFollowedAnyMore(Tracked run, NenException? cause = null)
        {
            if (run.Done) return;
            Interlocked.Increment(ref _notFollowed);
            var error = Circuit.ClosedBecause ?? new NenException(NenErrorIds.NotSent, NenErrorCategory.OperationStopped,
                $"Run {run.MessageId} was not followed to the end: the wait stopped first. The run itself is not affected: follow it again with Wait-NenRun.", cause);
            Finish(run, new WaitOutcome(run.MessageId, run.Tag, WaitOutcomeKind.Stopped, run.Last, error));
        }

        private void Finish(Tracked run, WaitOutcome outcome)
        {
            run.Done = true;
            _following.Remove(run.MessageId);
            if (outcome.Kind == WaitOutcomeKind.Completed)
            {
                if (outcome.Status!.State == RunState.Succeeded) Interlocked.Increment(ref _succeeded);
                else Interlocked.Increment(ref _failed);
            }
            else if (outcome.Kind == WaitOutcomeKind.Error) Interlocked.Increment(ref _statusUnknown);
            if (_options.StopAtFirstError && (outcome.Kind == WaitOutcomeKind.Error || outcome.Kind == WaitOutcomeKind.TimedOut)) _stopping = true;
            _out.Enqueue(outcome);
            Interlocked.Increment(ref _reported);
            _ready.Release();
        }

        private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

        public void Dispose()
        {
            _wake.Dispose();
            _ready.Dispose();
        }
    }
}
