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
using NenAi.Core.Waiting;

namespace NenAi.Core.Webhooks
{
    /// <summary>
    /// Receives a batch's webhooks with polling as the safety net. The listener starts first, so updates that come
    /// before their run is added are kept until it is. Each verified update is handed out once per
    /// (message_id, status) (see <see cref="UpdateLedger"/>). Runs waited for are followed by a <see cref="RunWaiter"/>
    /// whose first poll is delayed by <see cref="WebhookReceiverOptions.FallbackAfter"/>: a final webhook reports the
    /// run without any request, a lost one makes it polled (the waiter's rate limits and deadline), so a run is
    /// delayed, never lost; a warning names the runs whose webhooks are late. Every run added gets exactly one
    /// final item. Items are taken on the caller's thread; HTTP answers never wait for them.
    /// </summary>
    public sealed class WebhookReceiver : IDisposable
    {
        public enum AddResult
        {
            Added,
            /// <summary>The run was added before.</summary>
            AlreadyAdded,
            /// <summary>The ledger's file records the run's final update: an earlier receiver acted on it.</summary>
            HandledBefore,
        }

        private static readonly TimeSpan LateCheckInterval = TimeSpan.FromSeconds(1);
        private const int NamesPerWarning = 10;
        private readonly object _gate = new object();
        private readonly WebhookReceiverOptions _options;
        private readonly UpdateLedger _ledger;
        private readonly INenLog _log;
        private readonly WebhookListener _listener;
        private readonly RunWaiter? _waiter;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly ConcurrentQueue<ReceivedItem> _out = new ConcurrentQueue<ReceivedItem>();
        private readonly SemaphoreSlim _ready = new SemaphoreSlim(0);
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        // Guarded by _gate:
        private readonly Dictionary<string, object?> _following = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        private readonly HashSet<string> _reported = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, List<RunSnapshot>> _early = new Dictionary<string, List<RunSnapshot>>(StringComparer.OrdinalIgnoreCase);
        /// <summary>Runs whose final status came without polling (a webhook, or the input itself).</summary>
        private readonly HashSet<string> _finalInHand = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        /// <summary>Runs whose final status came from polling.</summary>
        private readonly HashSet<string> _byPolling = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        /// <summary>Runs waited for without a final webhook yet, in the order they were added (for the lateness warning).</summary>
        private readonly Queue<(string MessageId, TimeSpan Added)> _awaitingFinal = new Queue<(string, TimeSpan)>();
        private readonly HashSet<string> _finalSeenInService = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        private bool _addingCompleted;
        private volatile bool _finished;
        private int _started;

        public WebhookReceiver(WebhookReceiverOptions options, NenApiClient? client, UpdateLedger ledger, INenLog? log = null)
        {
            _options = options ?? throw new ArgumentNullException(nameof(options));
            _ledger = ledger ?? throw new ArgumentNullException(nameof(ledger));
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
                }, _log);
            }
        }

        public WebhookCounters Counters { get; } = new WebhookCounters();
        /// <summary>Runs added (waiting for runs only).</summary>
        public int Added => _waiter?.Added ?? 0;
        /// <summary>Runs added that have had their final item handed out.</summary>
        public int Finished { get { lock (_gate) return _reported.Count; } }
        public bool IsListening => _listener.IsListening;

        /// <summary>True once nothing more will come: every run added is reported (or the listening time is up) and every item is taken.</summary>
        public bool IsDone => _finished && _out.IsEmpty;

        /// <summary>Starts listening (NenWebhookListenFailed when a prefix cannot be bound) and, when waiting for runs, following them.</summary>
        public void Start(CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref _started, 1) != 0) return;
            CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
            _listener.Start();
            if (_waiter != null)
            {
                _waiter.Start(linked.Token);
                _ = Task.Run(() => ForwardOutcomesAsync(linked.Token));
                _ = Task.Run(() => WatchLateRunsAsync(linked.Token));
            }
            else if (_options.Timeout.HasValue)
            {
                _ = Task.Run(async () =>
                {
                    try { await Task.Delay(_options.Timeout.Value, linked.Token).ConfigureAwait(false); }
                    catch (OperationCanceledException) { return; }
                    _listener.Stop();
                    Finish();
                });
            }
        }

        /// <summary>Adds a run to wait for; updates that came for it before are used now.</summary>
        /// <param name="known">A status the caller already holds (a terminal one needs no webhook and no request).</param>
        public AddResult Add(string messageId, object? tag = null, RunSnapshot? known = null)
        {
            if (_waiter is null) throw new InvalidOperationException("This receiver waits for no runs.");
            if (string.IsNullOrWhiteSpace(messageId))
                throw new NenException(NenErrorIds.InvalidMessageId, NenErrorCategory.InvalidArgument, "The message id is empty.");
            string id = messageId.Trim();
            lock (_gate)
            {
                if (_following.ContainsKey(id) || _reported.Contains(id)) return AddResult.AlreadyAdded;
                if (_ledger.FinishedBefore(id)) return AddResult.HandledBefore;
                RunSnapshot? final = null, last = known;
                if (known?.IsTerminal == true) final = known;
                if (_early.TryGetValue(id, out List<RunSnapshot>? early))
                {
                    _early.Remove(id);
                    foreach (RunSnapshot update in early)
                    {
                        if (update.IsTerminal) final ??= update;
                        else if (final is null)
                        {
                            last = update;
                            // In the order they came; one that came after the final update is stale.
                            if (_options.IncludeInterim) Hand(new ReceivedItem(ReceivedItemKind.Update, id, tag, update, null, false));
                        }
                    }
                }
                _following[id] = tag;
                if (final != null) _finalInHand.Add(id);
                else _awaitingFinal.Enqueue((id, _clock.Elapsed));
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
                    foreach (List<RunSnapshot> updates in _early.Values) for (int i = 0; i < updates.Count; i++) Counters.Count(WebhookEvent.Ignored);
                    _early.Clear();
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

        /// <summary>The caller has acted on the update (written it): it is recorded, so a replay is not acted on again.</summary>
        public void MarkHandled(ReceivedItem item)
        {
            if (item.Kind == ReceivedItemKind.Update && item.MessageId != null && item.Status != null) _ledger.Record(item.MessageId, item.Status.Status);
        }

        /// <summary>Stops listening (the port is free when this returns) and following. Idempotent, any thread.</summary>
        public void Stop()
        {
            _listener.Stop();
            try { _stop.Cancel(); }
            catch (ObjectDisposedException) { }
        }

        // ---- Listener side (its threads) ----

        private void OnUpdate(RunSnapshot status)
        {
            string id = status.MessageId.Trim();
            lock (_gate)
            {
                if (_finished) return;
                if (!_ledger.TryClaim(id, status.Status))
                {
                    Counters.Count(WebhookEvent.Duplicate);
                    _log.Verbose($"Run {id}: '{status.Status}' again (a duplicate delivery); not written twice.");
                    return;
                }
                if (_waiter is null) { OnServiceUpdate(id, status); return; }
                if (_following.TryGetValue(id, out object? tag))
                {
                    if (status.IsTerminal)
                    {
                        _finalInHand.Add(id);
                        _waiter.Report(id, status);
                    }
                    else if (_finalInHand.Contains(id))
                    {
                        Ignore(id, status, "came after its final update");
                    }
                    else
                    {
                        _waiter.Report(id, status);
                        if (_options.IncludeInterim) Hand(new ReceivedItem(ReceivedItemKind.Update, id, tag, status, null, false));
                    }
                    return;
                }
                if (_reported.Contains(id)) { Ignore(id, status, "came after the run was reported"); return; }
                if (!_addingCompleted)
                {
                    // Its run may still be on its way down the pipeline.
                    if (!_early.TryGetValue(id, out List<RunSnapshot>? list)) _early[id] = list = new List<RunSnapshot>();
                    list.Add(status);
                    return;
                }
                Ignore(id, status, "is not one of the runs waited for");
            }
        }

        private void OnServiceUpdate(string id, RunSnapshot status)
        {
            if (status.IsTerminal) _finalSeenInService.Add(id);
            else if (_finalSeenInService.Contains(id)) { Ignore(id, status, "came after its final update"); return; }
            else if (!_options.IncludeInterim) return;
            Hand(new ReceivedItem(ReceivedItemKind.Update, id, null, status, null, false));
        }

        private void Ignore(string id, RunSnapshot status, string why)
        {
            Counters.Count(WebhookEvent.Ignored);
            _log.Verbose($"Run {id}: '{status.Status}' {why}; ignored.");
        }

        private void OnProblem(NenException problem) => Hand(new ReceivedItem(ReceivedItemKind.Error, null, null, null, problem, false));

        private void Hand(ReceivedItem item)
        {
            if (item.Kind == ReceivedItemKind.Update) Counters.Count(WebhookEvent.Written);
            _out.Enqueue(item);
            _ready.Release();
        }

        private void Finish()
        {
            lock (_gate) _finished = true; // under the lock: an update being taken in now is handed out before it

            _ready.Release(); // wakes a caller waiting for an item
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
            Finish();
        }

        private void Forward(WaitOutcome outcome)
        {
            lock (_gate)
            {
                _following.Remove(outcome.MessageId);
                _reported.Add(outcome.MessageId);
                switch (outcome.Kind)
                {
                    case WaitOutcomeKind.Completed:
                        // A polled status claims its pair too, so the webhook that comes later is a duplicate.
                        _ledger.TryClaim(outcome.MessageId, outcome.Status!.Status);
                        bool byPolling = !_finalInHand.Contains(outcome.MessageId);
                        if (byPolling)
                        {
                            _byPolling.Add(outcome.MessageId);
                            Counters.Count(WebhookEvent.ByPolling);
                        }
                        Hand(new ReceivedItem(ReceivedItemKind.Update, outcome.MessageId, outcome.Tag, outcome.Status, null, byPolling));
                        break;
                    case WaitOutcomeKind.TimedOut:
                        Hand(new ReceivedItem(ReceivedItemKind.TimedOut, outcome.MessageId, outcome.Tag, outcome.Status, outcome.Error, false));
                        break;
                    default:
                        Hand(new ReceivedItem(ReceivedItemKind.Error, outcome.MessageId, outcome.Tag, outcome.Status, outcome.Error, false));
                        break;
                }
            }
        }

        private async Task WatchLateRunsAsync(CancellationToken ct)
        {
            TimeSpan interval = _options.FallbackAfter < LateCheckInterval ? TimeSpan.FromTicks(Math.Max(_options.FallbackAfter.Ticks / 2, TimeSpan.FromMilliseconds(20).Ticks)) : LateCheckInterval;
            while (!_finished)
            {
                try { await Task.Delay(interval, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                WarnOfLateRuns();
            }
        }

        /// <summary>
        /// Names, once each, the runs whose final webhook had not come within the fallback time: still followed (so
        /// polled from now on) or already completed by a poll.
        /// </summary>
        private void WarnOfLateRuns()
        {
            var late = new List<string>();
            lock (_gate)
            {
                TimeSpan now = _clock.Elapsed;
                while (_awaitingFinal.Count > 0 && now - _awaitingFinal.Peek().Added >= _options.FallbackAfter)
                {
                    string id = _awaitingFinal.Dequeue().MessageId;
                    if (!_finalInHand.Contains(id) && (_following.ContainsKey(id) || _byPolling.Contains(id))) late.Add(id);
                }
            }
            if (late.Count == 0) return;
            Counters.Count(WebhookEvent.Late, late.Count);
            string names = string.Join(", ", late.Take(NamesPerWarning)) + (late.Count > NamesPerWarning ? $" and {late.Count - NamesPerWarning} more" : string.Empty);
            _log.Warning($"No final webhook for {late.Count} run(s) within {_options.FallbackAfter.TotalSeconds:0.#} s; their status is polled (GET /runs/{{id}}) instead: {names}. If this goes on, check that the webhook URL reaches this receiver.");
        }

        public void Dispose()
        {
            Stop();
            _waiter?.Dispose();
        }
    }
}
