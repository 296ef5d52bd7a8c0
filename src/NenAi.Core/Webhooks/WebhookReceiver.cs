using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Logging;
using NenAi.Core.Models;
using NenAi.Core.Rows;
using NenAi.Core.Waiting;

namespace NenAi.Core.Webhooks
{
    /// <summary>
    /// Receives a batch's webhooks with polling as the safety net. The listener starts first, so updates that come
    /// before their run is added are kept until it is. Each verified update is handed out once per
    /// (message_id, status), and never one of a run after its final one (see <see cref="UpdateLedger"/>, which a state
    /// file keeps across restarts). An update to hand out is recorded (durably, with a file) before it is answered 200,
    /// and marked written by <see cref="MarkHandled"/> once the caller has written it; at most
    /// <see cref="WebhookReceiverOptions.MaxBacklog"/> wait in between, beyond which new ones are answered 503 with
    /// Retry-After. Runs waited for are followed by a <see cref="RunWaiter"/> whose first poll is delayed by
    /// <see cref="WebhookReceiverOptions.FallbackAfter"/>: a final webhook reports the run without any request, a lost one
    /// makes it polled, so a run is delayed, never lost; a warning names the runs whose webhooks are late. Polls that
    /// fail never end a run: a refused key or an API out of reach is one warning, the runs are still followed by their
    /// webhooks until their deadline, and the runs neither finished are named in one error. Every run added gets
    /// exactly one final item. Items are taken on the caller's thread; HTTP answers never wait for them.
    /// </summary>
    public sealed class WebhookReceiver : IDisposable
    {
        public enum AddResult
        {
            Added,
            /// <summary>The run was added before.</summary>
            AlreadyAdded,
            /// <summary>The ledger's file records the run's final update as written: an earlier receiver acted on it.</summary>
            HandledBefore,
        }

        private sealed class EarlyUpdate
        {
            public EarlyUpdate(RunSnapshot status, bool recorded)
            {
                Status = status;
                Recorded = recorded;
            }

            public RunSnapshot Status { get; }
            /// <summary>Recorded as answered 200 and unwritten: written or dropped, it is marked so.</summary>
            public bool Recorded { get; }
        }

        private static readonly TimeSpan LateCheckInterval = TimeSpan.FromSeconds(1);
        private static readonly TimeSpan DisposeWait = TimeSpan.FromSeconds(5);
        private const int NamesPerWarning = 10;
        private readonly object _gate = new object();
        /// <summary>
        /// Held while a once-only warning is decided and written: the last check before the receiver is done waits for a
        /// warning another thread is writing, so it is out before the receiver says it is done (and the command ends).
        /// </summary>
        private readonly object _warnGate = new object();
        private readonly WebhookReceiverOptions _options;
        private readonly UpdateLedger _ledger;
        private readonly INenLog _log;
        private readonly WebhookListener _listener;
        private readonly RunWaiter? _waiter;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly ConcurrentQueue<ReceivedItem> _out = new ConcurrentQueue<ReceivedItem>();
        private readonly SemaphoreSlim _ready = new SemaphoreSlim(0);
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly List<Task> _background = new List<Task>();
        private CancellationTokenSource? _linked;
        private CancellationTokenRegistration _stopOnCancel;
        // Guarded by _gate:
        private readonly Dictionary<string, object?> _following = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        private readonly HashSet<string> _reported = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, List<EarlyUpdate>> _early = new Dictionary<string, List<EarlyUpdate>>(StringComparer.OrdinalIgnoreCase);
        /// <summary>Runs not yet reported whose final status came without polling (a webhook, or the input itself), with it.</summary>
        private readonly Dictionary<string, RunSnapshot> _finalInHand = new Dictionary<string, RunSnapshot>(StringComparer.OrdinalIgnoreCase);
        /// <summary>Runs whose final status came from polling.</summary>
        private readonly HashSet<string> _byPolling = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        /// <summary>Runs waited for without a final webhook yet, in the order they were added (for the lateness warning).</summary>
        private readonly Queue<(string MessageId, object? Tag, TimeSpan Added)> _awaitingFinal = new Queue<(string, object?, TimeSpan)>();
        /// <summary>Runs whose deadline passed once polling had stopped: named together in one error at the end.</summary>
        private readonly List<string> _unfinished = new List<string>();
        /// <summary>The same runs as they are named in that error: by their rows when the caller can name them.</summary>
        private readonly List<string> _unfinishedNames = new List<string>();
        private int _succeeded, _failed, _timedOut, _statusUnknown;
        private bool _addingCompleted;
        private volatile bool _finished;
        private int _started, _pollingStopWarned, _stoppedByState, _stopHanded, _disposed;

        public WebhookReceiver(WebhookReceiverOptions options, NenApiClient? client, UpdateLedger ledger, INenLog? log = null)
        {
            _options = options ?? throw new ArgumentNullException(nameof(options));
            _ledger = ledger ?? throw new ArgumentNullException(nameof(ledger));
            if (options.MaxBacklog < 1) throw new ArgumentOutOfRangeException(nameof(options), "The backlog must hold at least one update.");
            if (options.Timeout.HasValue && options.Timeout.Value > TimeSpan.FromSeconds(RunWaiterOptions.MaxTimeoutSeconds))
                throw new ArgumentOutOfRangeException(nameof(options), $"The timeout can be at most {RunWaiterOptions.MaxTimeoutSeconds} s.");
            _log = RedactingLog.Wrap(log);
            _listener = new WebhookListener(options.Listener, OnUpdate, OnProblem, Counters, _log);
            if (options.WaitForRuns)
            {
                if (client is null) throw new ArgumentNullException(nameof(client), "Waiting for runs needs a client for the polling fallback.");
                _waiter = new RunWaiter(client, new RunWaiterOptions
                {
                    FirstPollDelay = options.FallbackAfter,
                    PollInterval = options.PollInterval,
                    MaxConcurrency = options.MaxConcurrentPolls,
                    MaxConsecutiveFailures = options.MaxConsecutiveFailures,
                    Timeout = options.Timeout,
                    // Polling is the safety net and webhooks still arrive: a status outage paces the polls but does not stop them.
                    StopAtOutage = false,
                    // Polling is the safety net: a refused key or an API out of reach must not end runs whose webhooks still come.
                    KeepWaitingWhenPollsFail = true,
                }, _log);
            }
        }

        public WebhookCounters Counters { get; } = new WebhookCounters();
        /// <summary>Runs added (waiting for runs only).</summary>
        public int Added => _waiter?.Added ?? 0;
        /// <summary>Runs added that have had their last item handed out, whatever it said (finished, timed out, unknown).</summary>
        public int Reported { get { lock (_gate) return _reported.Count; } }
        /// <summary>Runs whose final status (succeeded or failed, by webhook or by polling) was handed out.</summary>
        public int Finished { get { lock (_gate) return _succeeded + _failed; } }
        /// <summary>Of <see cref="Finished"/>, the runs the service said failed.</summary>
        public int Failed { get { lock (_gate) return _failed; } }
        /// <summary>Runs that had not finished by their deadline (-TimeoutSec), polling or not.</summary>
        public int TimedOut { get { lock (_gate) return _timedOut; } }
        /// <summary>Runs whose status could not be read (a poll's own error): neither finished nor timed out.</summary>
        public int StatusUnknown { get { lock (_gate) return _statusUnknown; } }
        public bool IsListening => _listener.IsListening;
        /// <summary>Why polling stopped for good (a refused key, an API out of reach), once it has; the runs are still followed by their webhooks.</summary>
        public NenException? PollingStoppedBecause => _waiter?.Circuit.ClosedBecause;
        /// <summary>Bytes the requests in progress hold now.</summary>
        public long RequestMemoryInUse => _listener.RequestMemoryInUse;

        /// <summary>True once nothing more will come: every run added is reported (or the listening time is up) and every item is taken.</summary>
        public bool IsDone => _finished && _out.IsEmpty;

        /// <summary>
        /// Takes up the updates an earlier receiver with the same state file answered 200 and never wrote (handed out
        /// first), then starts listening (NenWebhookListenFailed when a prefix cannot be bound) and, when waiting for
        /// runs, following them.
        /// </summary>
        public void Start(CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref _started, 1) != 0) return;
            _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
            CancellationToken token = _linked.Token;
            TakeUpUnwritten();
            _listener.Start();
            // The caller's token stops the receiver as Stop does: a receiver that follows and hands out nothing more must
            // not go on answering 200 to deliveries nobody will write (nor hold its port until it is disposed).
            _stopOnCancel = cancellationToken.Register(Stop);
            lock (_background)
            {
                if (_waiter != null)
                {
                    _waiter.Start(token);
                    _background.Add(Task.Run(() => ForwardOutcomesAsync(token)));
                    _background.Add(Task.Run(() => WatchLateRunsAsync(token)));
                }
                else if (_options.Timeout.HasValue)
                {
                    _background.Add(Task.Run(async () =>
                    {
                        try { await Task.Delay(_options.Timeout.Value, token).ConfigureAwait(false); }
                        catch (OperationCanceledException) { return; }
                        _listener.Stop();
                        Finish();
                    }));
                }
            }
        }

        /// <summary>Updates a state file holds as answered 200 and not written: the next to write (a service) or kept for their runs.</summary>
        private void TakeUpUnwritten()
        {
            var dropped = new List<string>();
            foreach (UpdateLedger.PendingUpdate pending in _ledger.PendingUpdates())
            {
                RunSnapshot? status;
                string? problem;
                try
                {
                    // The rule a delivery meets now: a file an older version wrote may hold what it no longer takes.
                    status = WebhookUpdate.Read(pending.Body, DateTimeOffset.UtcNow, out problem);
                }
                catch (Exception ex) when (ex is System.Text.Json.JsonException || ex is ArgumentException)
                {
                    (status, problem) = (null, "it is not JSON");
                }
                if (status is null)
                {
                    _ledger.RecordDropped(pending.MessageId, pending.Status); // verified once, but not an update now: nothing to write
                    dropped.Add($"run {MessageIds.Shown(pending.MessageId.Trim())} ({problem})");
                    continue;
                }
                Counters.Count(WebhookEvent.Recovered);
                lock (_gate)
                {
                    if (_waiter is null) Hand(Update(status.MessageId.Trim(), null, status));
                    else Keep(status.MessageId.Trim(), new EarlyUpdate(status, recorded: true));
                }
            }
            // Answered 200 by an earlier receiver, so never sent again: not writing them is said, never done in silence.
            if (dropped.Count > 0)
                _log.Warning($"The state file holds {dropped.Count} update(s) an earlier receiver answered 200 that are no run update by this version's rule, so they are not written: " +
                    string.Join("; ", dropped.Take(NamesPerWarning)) + (dropped.Count > NamesPerWarning ? $"; and {dropped.Count - NamesPerWarning} more" : string.Empty) +
                    ". Their senders will not send them again: follow those runs with Get-NenRun if they matter.");
        }

        /// <summary>Adds a run to wait for; updates that came for it before are used now.</summary>
        /// <param name="known">A status the caller already holds (a terminal one needs no webhook and no request).</param>
        public AddResult Add(string messageId, object? tag = null, RunSnapshot? known = null)
        {
            if (_waiter is null) throw new InvalidOperationException("This receiver waits for no runs.");
            string id = MessageIds.Check(messageId);
            lock (_gate)
            {
                if (_following.ContainsKey(id) || _reported.Contains(id)) return AddResult.AlreadyAdded;
                if (_ledger.FinishedBefore(id))
                {
                    DropEarly(id, "its run's final update was written before");
                    return AddResult.HandledBefore;
                }
                RunSnapshot? final = null, last = known;
                if (known?.IsTerminal == true)
                {
                    final = known;
                    _ledger.Claim(id, known.Status); // a webhook with it later is a duplicate, any other update stale
                }
                if (_early.TryGetValue(id, out List<EarlyUpdate>? early))
                {
                    _early.Remove(id);
                    foreach (EarlyUpdate update in early)
                    {
                        bool used = false;
                        if (update.Status.IsTerminal)
                        {
                            if (final is null) { final = update.Status; used = true; }
                        }
                        else if (final is null)
                        {
                            last = update.Status;
                            // In the order they came; one that came after the final update is stale.
                            if (_options.IncludeInterim && update.Recorded) { Hand(Update(id, tag, update.Status)); used = true; }
                        }
                        if (!used && update.Recorded) _ledger.RecordDropped(id, update.Status.Status);
                    }
                }
                _following[id] = tag;
                if (final != null) _finalInHand[id] = final;
                else _awaitingFinal.Enqueue((id, tag, _clock.Elapsed));
                _waiter.Add(id, tag, final ?? last);
                return AddResult.Added;
            }
        }

        /// <summary>No more runs will be added: updates for runs not added from now on are ignored.</summary>
        public void CompleteAdding()
        {
            if (_waiter is null) return;
            lock (_gate)
            {
                _addingCompleted = true;
                if (_early.Count > 0)
                {
                    _log.Verbose($"{_early.Count} run(s) had updates but are not among the runs waited for; they were ignored.");
                    foreach (string id in _early.Keys.ToList()) DropEarly(id, null);
                }
            }
            _waiter.CompleteAdding();
        }

        /// <summary>Takes an item without waiting.</summary>
        public bool TryTake(out ReceivedItem? item)
        {
            item = null;
            if (!_ready.Wait(0)) return false;
            return _out.TryDequeue(out item);
        }

        /// <summary>The next item, or null when none came within <paramref name="maxWait"/> or the receiver is done (see <see cref="IsDone"/>).</summary>
        public async Task<ReceivedItem?> TakeAsync(TimeSpan maxWait, CancellationToken cancellationToken = default)
        {
            if (IsDone) return null;
            if (!await _ready.WaitAsync(maxWait, cancellationToken).ConfigureAwait(false)) return null;
            return _out.TryDequeue(out ReceivedItem? item) ? item : null;
        }

        /// <summary>
        /// The caller has written the update (WriteObject returned): it is marked written, so no restart writes it again.
        /// Throws NenWebhookStateWriteFailed when the state file cannot be written.
        /// </summary>
        public void MarkHandled(ReceivedItem item)
        {
            if (item.Kind == ReceivedItemKind.Update && item.MessageId != null && item.Status != null) _ledger.RecordWritten(item.MessageId, item.Status.Status);
        }

        /// <summary>Stops listening (the port is free when this returns) and following. Idempotent, any thread; cancelling the token given to <see cref="Start"/> does it too.</summary>
        public void Stop()
        {
            _listener.Stop();
            try { _stop.Cancel(); }
            catch (ObjectDisposedException) { }
        }

        /// <summary>Completes when nothing of the receiver runs in the background any more (after <see cref="Stop"/> or the end).</summary>
        public Task WhenIdleAsync()
        {
            var work = new List<Task> { _listener.WhenStopped };
            lock (_background) work.AddRange(_background);
            if (_waiter != null) work.Add(_waiter.WhenIdleAsync());
            return Task.WhenAll(work.Select(t => t.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)));
        }

        // ---- Listener side (its threads) ----

        private DeliveryAnswer OnUpdate(RunSnapshot status)
        {
            string id = status.MessageId.Trim();
            lock (_gate)
            {
                // Not taken: the sender sends it again, to this receiver's successor.
                if (_finished || Volatile.Read(ref _stoppedByState) != 0) return DeliveryAnswer.NotNow(_options.BacklogRetryAfterSeconds);
                if (_ledger.Unwritten >= _options.MaxBacklog && !_ledger.Seen(id, status.Status))
                {
                    Counters.Count(WebhookEvent.BacklogFull);
                    _log.Verbose($"Run {id}: '{status.Status}' answered 503: {_options.MaxBacklog} update(s) are waiting to be written.");
                    return DeliveryAnswer.NotNow(_options.BacklogRetryAfterSeconds);
                }
                switch (_ledger.Claim(id, status.Status))
                {
                    case UpdateLedger.ClaimResult.Duplicate:
                        Counters.Count(WebhookEvent.Duplicate);
                        _log.Verbose($"Run {id}: '{status.Status}' again (a duplicate delivery); not written twice.");
                        return DeliveryAnswer.Ok;
                    case UpdateLedger.ClaimResult.AfterFinal:
                        Ignore(id, status, "came after its final update");
                        return DeliveryAnswer.Ok;
                }
                if (status.State == RunState.Other) WarnOfUnknownStatus(id, status);
                if (_waiter is null)
                {
                    if (!status.IsTerminal && !_options.IncludeInterim) return DeliveryAnswer.Ok;
                    return Recorded(status, () => Hand(Update(id, null, status)));
                }
                if (_following.TryGetValue(id, out object? tag))
                {
                    if (status.IsTerminal)
                        return Recorded(status, () =>
                        {
                            _finalInHand[id] = status;
                            _waiter.Report(id, status);
                        });
                    _waiter.Report(id, status);
                    return _options.IncludeInterim ? Recorded(status, () => Hand(Update(id, tag, status))) : DeliveryAnswer.Ok;
                }
                if (_reported.Contains(id)) { Ignore(id, status, "came after the run was reported"); return DeliveryAnswer.Ok; }
                if (!_addingCompleted)
                {
                    // Its run may still be on its way down the pipeline. Only what may be written is recorded.
                    if (!status.IsTerminal && !_options.IncludeInterim) { Keep(id, new EarlyUpdate(status, recorded: false)); return DeliveryAnswer.Ok; }
                    return Recorded(status, () => Keep(id, new EarlyUpdate(status, recorded: true)));
                }
                Ignore(id, status, "is not one of the runs waited for");
                return DeliveryAnswer.Ok;
            }
        }

        /// <summary>Records the update as answered 200 and unwritten, then takes it in; the 200 waits for the record to be durable.</summary>
        private DeliveryAnswer Recorded(RunSnapshot status, Action takeIn)
        {
            Task durable;
            try
            {
                durable = _ledger.RecordReceived(status);
            }
            catch (NenException ex)
            {
                Volatile.Write(ref _stoppedByState, 1); // nothing more is acknowledged from now on
                return DeliveryAnswer.NotRecorded(ex, StopForState);
            }
            takeIn();
            if (durable.IsCompleted && !durable.IsFaulted) return DeliveryAnswer.Ok;
            return DeliveryAnswer.OkOnceRecorded(durable, StopForState);
        }

        /// <summary>
        /// The state file cannot be written: nothing more is acknowledged (503 from now on), and, once the 500 for the
        /// update that could not be recorded is out, the caller gets this error, which ends the command and the receiver.
        /// </summary>
        private void StopForState(NenException failure)
        {
            Volatile.Write(ref _stoppedByState, 1);
            if (Interlocked.Exchange(ref _stopHanded, 1) != 0) return;
            Hand(new ReceivedItem(ReceivedItemKind.Error, null, null, null, failure, false, stopsReceiver: true));
        }

        private void Keep(string id, EarlyUpdate update)
        {
            if (!_early.TryGetValue(id, out List<EarlyUpdate>? list)) _early[id] = list = new List<EarlyUpdate>();
            list.Add(update);
        }

        /// <summary>Updates kept for a run that will not be waited for: ignored, and marked as needing no writing.</summary>
        private void DropEarly(string id, string? why)
        {
            if (!_early.TryGetValue(id, out List<EarlyUpdate>? list)) return;
            _early.Remove(id);
            foreach (EarlyUpdate update in list)
            {
                Counters.Count(WebhookEvent.Ignored);
                if (why != null) _log.Verbose($"Run {id}: '{update.Status.Status}' ignored: {why}.");
                if (update.Recorded) _ledger.RecordDropped(id, update.Status.Status);
            }
        }

        /// <summary>
        /// A status this version does not know is treated as still running (spec section 11), and said so, once per run
        /// and status (the ledger's claim sees to that): the sender never sends it again after its 200, and it may be
        /// the run's final one under a new name.
        /// </summary>
        private void WarnOfUnknownStatus(string id, RunSnapshot status)
        {
            Counters.Count(WebhookEvent.UnknownStatus);
            string run = _following.TryGetValue(id, out object? tag) ? Named(id, tag) : $"run {id}";
            string what = _waiter is null
                ? (_options.IncludeInterim ? "it is written as it came, as an interim update" : "it is not written (-IncludeProcessing writes interim updates as they come)")
                : _following.ContainsKey(id) ? "the run is still waited for: its status is polled (GET /runs/{id}) if no final webhook comes"
                : !_addingCompleted ? "the run is waited for as any other if it is among the runs given"
                : "the run is not among the runs waited for";
            _log.Warning($"{RowLabel.Capitalized(run)}: the service sent the status '{status.Status.Trim()}', which this version does not know: it is treated as still running, not as final, and {what}. " +
                "If it is the run's final status, follow the run with Wait-NenRun or Get-NenRun.");
        }

        private void Ignore(string id, RunSnapshot status, string why)
        {
            Counters.Count(WebhookEvent.Ignored);
            _log.Verbose($"Run {id}: '{status.Status}' {why}; ignored.");
        }

        private void OnProblem(NenException problem) => Hand(new ReceivedItem(ReceivedItemKind.Error, null, null, null, problem, false));

        private static ReceivedItem Update(string id, object? tag, RunSnapshot status, bool byPolling = false) =>
            new ReceivedItem(ReceivedItemKind.Update, id, tag, status, null, byPolling);

        private void Hand(ReceivedItem item)
        {
            if (item.Kind == ReceivedItemKind.Update) Counters.Count(WebhookEvent.Written);
            _out.Enqueue(item);
            try { _ready.Release(); }
            catch (ObjectDisposedException) { } // a request finishing while the receiver is disposed: nobody takes it
        }

        private void Finish()
        {
            lock (_gate) _finished = true; // under the lock: an update being taken in now is handed out before it
            try { _ready.Release(); } // wakes a caller waiting for an item
            catch (ObjectDisposedException) { }
        }

        // ---- Following runs (background) ----

        private async Task ForwardOutcomesAsync(CancellationToken ct)
        {
            try
            {
                WaitOutcome? outcome;
                while ((outcome = await _waiter!.TakeAsync(ct).ConfigureAwait(false)) != null) Forward(outcome);
            }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            // Every run is reported: nothing can come any more.
            _listener.Stop();
            WarnOfLateRuns();
            WarnIfPollingStopped();
            lock (_gate)
            {
                if (_unfinished.Count > 0) Hand(new ReceivedItem(ReceivedItemKind.Error, null, _unfinished.ToArray(), null, NeitherPathFinished(), false));
            }
            Finish();
        }

        private void Forward(WaitOutcome outcome)
        {
            lock (_gate)
            {
                _following.Remove(outcome.MessageId);
                _reported.Add(outcome.MessageId);
                // A final webhook answered 200 (and recorded) after the waiter had given the run up, before its outcome got
                // here, is the run's outcome: else it would never be written, and its sender never sends it again.
                if (_finalInHand.TryGetValue(outcome.MessageId, out RunSnapshot? final))
                {
                    _finalInHand.Remove(outcome.MessageId);
                    if (outcome.Kind != WaitOutcomeKind.Completed) outcome = new WaitOutcome(outcome.MessageId, outcome.Tag, WaitOutcomeKind.Completed, final, null);
                }
                switch (outcome.Kind)
                {
                    case WaitOutcomeKind.Completed:
                        // A polled status claims its pair too, so the webhook that comes later is a duplicate.
                        _ledger.Claim(outcome.MessageId, outcome.Status!.Status);
                        bool byPolling = final is null;
                        if (byPolling)
                        {
                            _byPolling.Add(outcome.MessageId);
                            Counters.Count(WebhookEvent.ByPolling);
                        }
                        if (outcome.Status!.State == RunState.Succeeded) _succeeded++;
                        else _failed++;
                        Hand(Update(outcome.MessageId, outcome.Tag, outcome.Status, byPolling));
                        break;
                    case WaitOutcomeKind.TimedOut when _waiter!.Circuit.ClosedBecause != null || outcome.Error?.InnerException is NenException:
                        _timedOut++;
                        // Neither path finished it: named in the one error at the end, with the reason polling stopped (or
                        // its polls were failing: a 5xx outage trips no circuit here, and is one error too, not one per run).
                        if (outcome.Error?.InnerException is NenException pollFailure) _pollsFailedWith = pollFailure;
                        _unfinished.Add(outcome.MessageId);
                        _unfinishedNames.Add(Named(outcome.MessageId, outcome.Tag));
                        if (outcome.Status != null) Hand(new ReceivedItem(ReceivedItemKind.TimedOut, outcome.MessageId, outcome.Tag, outcome.Status, null, false));
                        break;
                    case WaitOutcomeKind.TimedOut:
                        _timedOut++;
                        Hand(new ReceivedItem(ReceivedItemKind.TimedOut, outcome.MessageId, outcome.Tag, outcome.Status, outcome.Error, false));
                        break;
                    default:
                        if (outcome.Kind == WaitOutcomeKind.Error) _statusUnknown++;
                        Hand(new ReceivedItem(ReceivedItemKind.Error, outcome.MessageId, outcome.Tag, outcome.Status, outcome.Error, false));
                        break;
                }
            }
        }

        private NenException? _pollsFailedWith;

        /// <summary>A run as a message that names several runs names it: by its row when the caller can tell it, else by its id.</summary>
        private string Named(string messageId, object? tag) =>
            _options.RowOf?.Invoke(tag) is string row ? $"{RowLabel.Capitalized(row)} (run {messageId})" : messageId;

        /// <summary>The one error for the runs whose deadline passed after polling had stopped: its id and category are the reason's.</summary>
        private NenException NeitherPathFinished()
        {
            NenException? stopped = _waiter!.Circuit.ClosedBecause;
            NenException why = stopped ?? _pollsFailedWith!;
            string polling = stopped != null
                ? $"polling had stopped: {PollingStopReason(_waiter.Circuit.Trip, stopped)}"
                : $"their status queries were failing: {Sentence.Ended(why.Message)}";
            string names = string.Join(", ", _unfinishedNames.Take(NamesPerWarning)) + (_unfinishedNames.Count > NamesPerWarning ? $" and {_unfinishedNames.Count - NamesPerWarning} more" : string.Empty);
            return new NenException(why.ErrorId, why.Category,
                $"{_unfinished.Count} run(s) had not finished when their wait of {_options.Timeout?.TotalSeconds:0.#} s ran out: no final webhook came for them, " +
                $"and {polling} Runs: {names}. The runs themselves are not affected: " +
                "follow them with Wait-NenRun or Get-NenRun once the API answers.", why)
            { StatusCode = why.StatusCode };
        }

        /// <summary>Why polling stopped, in the receiver's words (the circuit's own message names the one run whose poll tripped it).</summary>
        internal static string PollingStopReason(CircuitTrip trip, NenException why)
        {
            string status = why.StatusCode is System.Net.HttpStatusCode code ? $" (HTTP {(int)code})" : string.Empty;
            return trip switch
            {
                // Refused() is a sentence's start ("The API key was refused"): lower-cased after "Polling stopped: ".
                CircuitTrip.Credentials => $"{LowerFirst(CredentialNames.Refused(why.ErrorId))}{status}. {CredentialNames.WhatToDo(why.ErrorId)}",
                CircuitTrip.Address => $"the base URL does not lead to the Nen API{status}. Correct -BaseUri (or NEN_BASE_URL).",
                CircuitTrip.Refusals => $"the API could not be reached, or refused every query, for longer than the retry budget ({why.ErrorId}).",
                // A captive portal's page, a 418: answered, but not by the Nen API (every query met it).
                CircuitTrip.Failures when ForeignAnswers.IsForeign(why) =>
                    $"the status queries were answered, but not as the Nen API answers ({why.ErrorId}{status}): a captive portal, a proxy's page or a wrong base URL. " +
                    "Check -BaseUri (or NEN_BASE_URL), and a proxy or a network login page on the way.",
                CircuitTrip.Failures => $"every query to the API failed ({why.ErrorId}).",
                _ => why.Message,
            };
        }

        private static string LowerFirst(string text) => text.Length == 0 ? text : char.ToLowerInvariant(text[0]) + text.Substring(1);

        private async Task WatchLateRunsAsync(CancellationToken ct)
        {
            TimeSpan interval = _options.FallbackAfter < LateCheckInterval ? TimeSpan.FromTicks(Math.Max(_options.FallbackAfter.Ticks / 2, TimeSpan.FromMilliseconds(20).Ticks)) : LateCheckInterval;
            while (!_finished)
            {
                try { await Task.Delay(interval, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                WarnOfLateRuns();
                WarnIfPollingStopped();
            }
        }

        /// <summary>Once: polling stopped for good, and the runs are still followed by their webhooks.</summary>
        private void WarnIfPollingStopped()
        {
            NenException? why = _waiter?.Circuit.ClosedBecause;
            if (why is null) return;
            lock (_warnGate)
            {
                if (Interlocked.Exchange(ref _pollingStopWarned, 1) != 0) return;
                _log.Warning($"Polling stopped: {PollingStopReason(_waiter!.Circuit.Trip, why)} The runs are still followed by their webhooks" +
                    (_options.Timeout.HasValue
                        ? $" until their wait of {_options.Timeout.Value.TotalSeconds:0.#} s runs out; one error at the end names any that neither path finished."
                        : " until the receiver is stopped (no -TimeoutSec)."));
            }
        }

        /// <summary>
        /// Names, once each, the runs whose final webhook had not come within the fallback time: still followed (so
        /// polled from now on) or already completed by a poll.
        /// </summary>
        private void WarnOfLateRuns()
        {
            lock (_warnGate) WarnOfLateRunsLocked();
        }

        private void WarnOfLateRunsLocked()
        {
            var late = new List<string>();
            lock (_gate)
            {
                TimeSpan now = _clock.Elapsed;
                while (_awaitingFinal.Count > 0 && now - _awaitingFinal.Peek().Added >= _options.FallbackAfter)
                {
                    (string id, object? tag, _) = _awaitingFinal.Dequeue();
                    if (!_finalInHand.ContainsKey(id) && (_following.ContainsKey(id) || _byPolling.Contains(id))) late.Add(Named(id, tag));
                }
            }
            if (late.Count == 0) return;
            Counters.Count(WebhookEvent.Late, late.Count);
            string names = string.Join(", ", late.Take(NamesPerWarning)) + (late.Count > NamesPerWarning ? $" and {late.Count - NamesPerWarning} more" : string.Empty);
            string how = _waiter?.Circuit.ClosedBecause is null ? "their status is polled (GET /runs/{id}) instead" : "polling has stopped, so only their webhooks can finish them";
            _log.Warning($"No final webhook for {late.Count} run(s) within {_options.FallbackAfter.TotalSeconds:0.#} s; {how}: {names}. If this goes on, check that the webhook URL reaches this receiver.");
        }

        /// <summary>Stops everything, waits (briefly) for the background work to end, then frees what the receiver holds.</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            Stop();
            try { WhenIdleAsync().Wait(DisposeWait); }
            catch (AggregateException) { }
            _waiter?.Dispose();
            _listener.Dispose();
            _stopOnCancel.Dispose();
            _linked?.Dispose();
            _stop.Dispose();
            _ready.Dispose();
        }
    }
}
