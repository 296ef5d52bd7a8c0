using System;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Batch;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Models;

namespace NenAi.Core.Lookup
{
    /// <summary>
    /// Asks for the current status of many runs, one GET each, at most <see cref="MaxConcurrency"/> at once, while
    /// the input keeps streaming. It does not wait for runs to finish. A slot is held from <see cref="AddAsync"/>
    /// until the answer is taken, so memory stays flat however many runs come; answers come out as they arrive. All
    /// queries share one <see cref="BatchCircuit"/>: a 429/503 pauses them all, a failed query makes the others wait while
    /// one probes, and an unreachable service, refused credentials or an outage (queries failing in a row for longer than
    /// one query's retries would take) stop them all (each run not asked about gets a <see cref="NenNotSentException"/> answer).
    /// </summary>
    public sealed class StatusLookup : IDisposable
    {
        private readonly NenApiClient _client;
        private readonly CompletionQueue<LookupOutcome> _queue;

        public StatusLookup(NenApiClient client, int maxConcurrency)
        {
            _client = client ?? throw new ArgumentNullException(nameof(client));
            _queue = new CompletionQueue<LookupOutcome>(maxConcurrency);
            Circuit = BatchCircuit.For(client.Options);
            Circuit.ReadOutageWindow = BatchCircuit.ReadOutageWindowFor(client.Options);
        }

        /// <summary>The queries' one circuit.</summary>
        public BatchCircuit Circuit { get; }

        /// <summary>The first lookup that fails stops the others: no new query leaves (-ErrorAction Stop).</summary>
        public bool StopAtFirstError { get; set; }

        public int MaxConcurrency => _queue.MaxConcurrency;
        /// <summary>True when <see cref="AddAsync"/> would not wait.</summary>
        public bool HasFreeSlot => _queue.HasFreeSlot;
        /// <summary>Runs added whose answer has not been taken yet.</summary>
        public int Outstanding => _queue.Outstanding;

        /// <summary>Takes a slot (waiting while all are held by untaken answers) and starts the GET.</summary>
        public async Task AddAsync(string messageId, object? tag = null, CancellationToken cancellationToken = default)
        {
            if (string.IsNullOrWhiteSpace(messageId))
                throw new NenException(NenErrorIds.InvalidMessageId, NenErrorCategory.InvalidArgument, "The message id is empty.");
            await _queue.EnterAsync(cancellationToken).ConfigureAwait(false);
            string id = messageId.Trim();
            _queue.Run(() => LookUpAsync(id, tag, cancellationToken));
        }

        private async Task<LookupOutcome> LookUpAsync(string messageId, object? tag, CancellationToken cancellationToken)
        {
            try
            {
                RunSnapshot status = await _client.GetRunAsync(messageId, cancellationToken, Circuit).ConfigureAwait(false);
                return new LookupOutcome(messageId, tag, status, null);
            }
            catch (NenException ex)
            {
                if (StopAtFirstError && !(ex is NenNotSentException))
                    Circuit.Close(new NenException(NenErrorIds.NotSent, NenErrorCategory.OperationStopped, "The command stopped at the first run that could not be looked up (-ErrorAction Stop)."));
                return new LookupOutcome(messageId, tag, null, ex);
            }
            catch (OperationCanceledException ex)
            {
                return new LookupOutcome(messageId, tag, null,
                    new NenException(NenErrorIds.Cancelled, NenErrorCategory.OperationStopped, $"The lookup of run {messageId} was stopped before it was answered.", ex));
            }
            catch (Exception ex)
            {
                return new LookupOutcome(messageId, tag, null,
                    new NenException(NenErrorIds.UnexpectedResponse, NenErrorCategory.InvalidResult, $"Looking up run {messageId} failed unexpectedly: {ex.GetType().Name}.", ex));
            }
        }

        /// <summary>Takes an answer without waiting.</summary>
        public bool TryTake(out LookupOutcome? outcome) => _queue.TryTake(out outcome);

        /// <summary>Waits for the next answer; null when nothing is outstanding.</summary>
        public Task<LookupOutcome?> TakeAsync(CancellationToken cancellationToken = default) => _queue.TakeAsync(cancellationToken);

        /// <summary>Completes when no request is on the wire any more (after cancellation, say).</summary>
        public Task WhenIdleAsync() => _queue.WhenIdleAsync();

        public void Dispose() => _queue.Dispose();
    }
}
