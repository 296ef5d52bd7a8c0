using System;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Batch;
using NenAi.Core.Errors;
using NenAi.Core.Models;

namespace NenAi.Core.Downloads
{
    /// <summary>
    /// Downloads the results of many runs at once while the input keeps streaming, through one
    /// <see cref="ResultDownloader"/> (whose request limit and circuit every run shares). A run's slot is held from
    /// <see cref="AddAsync"/> until its outcome is taken, so at most twice the request limit of runs live in memory
    /// however many come: enough for a run whose files are done to wait to be taken while the others keep the wire busy.
    /// Each run's outcome comes out when its last file is done, in the order the runs finish; with one request at a time,
    /// in the order the runs came (a run still unpacking its archive holds back the next one, whose files are already on
    /// the wire once its last download gave up its place).
    /// </summary>
    public sealed class ResultDownloadQueue : IDisposable
    {
        private readonly ResultDownloader _downloader;
        private readonly CompletionQueue<RunDownloadOutcome> _queue;
        /// <summary>With one request at a time: the outcome of the run added last, which the next run's comes out after.</summary>
        private readonly bool _inOrder;
        private readonly object _orderGate = new object();
        private Task _lastOut = Task.CompletedTask;

        public ResultDownloadQueue(ResultDownloader downloader)
        {
            _downloader = downloader ?? throw new ArgumentNullException(nameof(downloader));
            _queue = new CompletionQueue<RunDownloadOutcome>(2 * downloader.MaxConcurrency);
            _inOrder = downloader.MaxConcurrency == 1;
        }

        public ResultDownloader Downloader => _downloader;

        /// <summary>True when <see cref="AddAsync"/> would not wait.</summary>
        public bool HasFreeSlot => _queue.HasFreeSlot;

        /// <summary>Takes a slot (waiting while all are held by untaken outcomes) and starts the run's downloads.</summary>
        /// <param name="run">The run's status in hand; one that is not final (or a bare id) is looked up first.</param>
        /// <param name="tag">What the caller added with the run (the pipeline input, for error records).</param>
        public async Task AddAsync(RunSnapshot run, object? tag = null, CancellationToken cancellationToken = default)
        {
            if (run is null) throw new ArgumentNullException(nameof(run));
            await _queue.EnterAsync(cancellationToken).ConfigureAwait(false);
            // Started here, on the caller's thread, up to its first wait: its files take their places for the wire in the
            // order the runs come (with one request at a time, the runs finish in that order too).
            Task<RunDownloadResult> downloading = _downloader.DownloadAsync(run, cancellationToken);
            if (!_inOrder)
            {
                _queue.Run(() => OutcomeAsync(run, tag, downloading));
                return;
            }
            // The last file's place on the wire goes to the next run before this run is done with it (an archive is
            // unpacked after its download), so the order the runs finish in is not the order they came in by itself.
            lock (_orderGate)
            {
                Task before = _lastOut;
                _lastOut = _queue.Run(async () =>
                {
                    RunDownloadOutcome outcome = await OutcomeAsync(run, tag, downloading).ConfigureAwait(false);
                    await before.ConfigureAwait(false); // ends once the run before is out (it never throws: see OutcomeAsync)
                    return outcome;
                });
            }
        }

        private static async Task<RunDownloadOutcome> OutcomeAsync(RunSnapshot run, object? tag, Task<RunDownloadResult> downloading)
        {
            try
            {
                return new RunDownloadOutcome(run, tag, await downloading.ConfigureAwait(false), null);
            }
            catch (NenException ex)
            {
                return new RunDownloadOutcome(run, tag, null, ex);
            }
            catch (OperationCanceledException ex)
            {
                return new RunDownloadOutcome(run, tag, null,
                    new NenNotSentException($"The results of run {run.MessageId} were not downloaded: the command was stopped first.", NenErrorCategory.OperationStopped, ex));
            }
            catch (Exception ex)
            {
                return new RunDownloadOutcome(run, tag, null,
                    new NenException(NenErrorIds.UnexpectedResponse, NenErrorCategory.InvalidResult, $"Getting the results of run {run.MessageId} failed unexpectedly: {ex.GetType().Name}.", ex));
            }
        }

        /// <summary>Takes a finished run without waiting.</summary>
        public bool TryTake(out RunDownloadOutcome? outcome) => _queue.TryTake(out outcome);

        /// <summary>Waits for the next finished run; null when nothing is outstanding.</summary>
        public Task<RunDownloadOutcome?> TakeAsync(CancellationToken cancellationToken = default) => _queue.TakeAsync(cancellationToken);

        /// <summary>Completes when no download is running any more (after cancellation, say).</summary>
        public Task WhenIdleAsync() => _queue.WhenIdleAsync();

        public void Dispose() => _queue.Dispose();
    }

    /// <summary>What became of one run added to a <see cref="ResultDownloadQueue"/>: its files and errors, or the error that kept it from any.</summary>
    public sealed class RunDownloadOutcome(RunSnapshot given, object? tag, RunDownloadResult? result, NenException? error)
    {
        /// <summary>The status the run was added with.</summary>
        public RunSnapshot Given { get; } = given;
        public object? Tag { get; } = tag;
        public RunDownloadResult? Result { get; } = result;
        /// <summary>Why the run has no result: it failed without files, is not finished, could not be looked up, or the downloads stopped first.</summary>
        public NenException? Error { get; } = error;
        public string MessageId => Result?.Run?.MessageId ?? Given.MessageId;
    }
}
