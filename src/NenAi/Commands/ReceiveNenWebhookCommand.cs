using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Security;
using System.Threading.Tasks;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;
using NenAi.Core.Journal;
using NenAi.Core.Logging;
using NenAi.Core.Waiting;
using NenAi.Core.Webhooks;

namespace NenAi.Commands
{
    /// <summary>
    /// A webhook receiver: listens on HttpListener prefixes, verifies every delivery, answers at once, and writes each
    /// new update once as a NenAi.RunStatus. Given runs (piped in or by id) it waits for them, polling those whose
    /// final webhook is late, and ends when every one has finished; without runs it listens until stopped.
    /// </summary>
    [Cmdlet(VerbsCommunications.Receive, "NenWebhook", DefaultParameterSetName = ByInput)]
    [OutputType(typeof(RunStatus))]
    public sealed class ReceiveNenWebhookCommand : StatusQueryCmdletBase
    {
        private const string Activity = "Receive-NenWebhook";
        private const int ActivityId = 5;
        private static readonly TimeSpan TakeWait = TimeSpan.FromSeconds(1);
        private List<SecretValue> _secrets = new List<SecretValue>();
        private UpdateLedger? _ledger;
        private WebhookReceiver? _receiver;
        private bool _waitForRuns;
        private int _handledBefore;
        private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

        /// <summary>HttpListener prefixes to listen on, such as http://+:8089/nen/ (every host name) or http://127.0.0.1:8089/nen/.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string[] Prefix { get; set; } = Array.Empty<string>();

        /// <summary>Runs to wait for. Not mandatory: without runs the receiver listens as a service until stopped.</summary>
        [Parameter(ParameterSetName = ByInput, ValueFromPipeline = true)]
        [AllowNull] // a $null among the runs is that item's NenInvalidMessageId error, like any other input that is not a run
        public override PSObject?[]? InputObject { get => base.InputObject; set => base.InputObject = value; }

        /// <summary>The webhook secret(s); a delivery verifies when any one matches (rotation). Falls back to NEN_WEBHOOK_SECRET.</summary>
        [Parameter]
        [Alias("Secret")]
        [SecureStringTransformation]
        public SecureString[]? WebhookSecret { get; set; }

        /// <summary>Give up on a run this many seconds after it reached the receiver (0: wait for ever); without runs, stop listening after this many seconds.</summary>
        [Parameter]
        [ValidateRange(0, RunWaiterOptions.MaxTimeoutSeconds)]
        public int TimeoutSec { get; set; }

        /// <summary>Seconds after a run reached the receiver without its final webhook before its status is polled (GET /runs/{id}).</summary>
        [Parameter]
        [ValidateRange(0.05, 86400)]
        public double FallbackAfterSec { get; set; } = 60;

        /// <summary>Seconds between two status queries of a run whose webhook is late.</summary>
        [Parameter]
        [ValidateRange(0.05, 3600)]
        public double PollIntervalSec { get; set; } = 15;

        /// <summary>Largest body accepted, in bytes; a larger one is answered 413 without being read.</summary>
        [Parameter]
        [ValidateRange(1024, 16 * 1024 * 1024)]
        public int MaximumBodySize { get; set; } = WebhookListenerOptions.DefaultMaxBodyBytes;

        /// <summary>Seconds a client may take to send a request's body once its headers have come (on Windows, its headers too); a slower one is answered 408.</summary>
        [Parameter]
        [ValidateRange(0.5, 60)]
        public double ReadTimeoutSec { get; set; } = 5;

        /// <summary>Memory, in bytes, the requests in progress may hold together (16 KiB each plus its body as it arrives); past it, 503 with Retry-After.</summary>
        [Parameter]
        [ValidateRange(16L * 1024 * 1024, 64L * 1024 * 1024 * 1024)]
        public long MaximumRequestMemory { get; set; } = WebhookListenerOptions.DefaultMaxRequestMemoryBytes;

        /// <summary>Updates answered 200 and not yet written, at most; past it a new update is answered 503 with Retry-After.</summary>
        [Parameter]
        [ValidateRange(1, 10_000_000)]
        public int MaximumBacklog { get; set; } = WebhookReceiverOptions.DefaultMaxBacklog;

        /// <summary>Runs remembered (in memory and in -StatePath) to refuse duplicates and stale updates; the oldest are forgotten first.</summary>
        [Parameter]
        [ValidateRange(100, 100_000_000)]
        public int MaximumRememberedRuns { get; set; } = UpdateLedger.DefaultMaxRememberedRuns;

        /// <summary>A file recording each update answered 200 until it is written, so a restarted receiver writes what a crash left unwritten and nothing twice.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? StatePath { get; set; }

        /// <summary>Also write interim updates (processing), not only each run's final one.</summary>
        [Parameter]
        public SwitchParameter IncludeProcessing { get; set; }

        protected override void BeginProcessing()
        {
            // Each in range alone, but together the memory may not hold one request with the largest body (16 MB of each).
            long leastMemory = WebhookListenerOptions.MinimumRequestMemory(MaximumBodySize);
            if (MaximumRequestMemory < leastMemory)
                EndWithError(new ErrorRecord(new PSArgumentException(
                    $"-MaximumRequestMemory {MaximumRequestMemory} cannot hold one request with the largest body: it needs at least {leastMemory} bytes for -MaximumBodySize {MaximumBodySize} (16 KiB of each request besides its body). Give more memory or a smaller -MaximumBodySize.",
                    nameof(MaximumRequestMemory)), "ParameterArgumentValidationError", ErrorCategory.InvalidArgument, MaximumRequestMemory));
            // Runs come down the pipeline, by id or as -InputObject: wait for them. Otherwise listen as a service.
            _waitForRuns = ParameterSetName == ById || MyInvocation.ExpectingInput || MyInvocation.BoundParameters.ContainsKey(nameof(InputObject));
            if (_waitForRuns) EnsureConfigured(); // the polling fallback needs the API
            try
            {
                _secrets = WebhookSecrets.Resolve(SessionState, WebhookSecret, nameof(WebhookSecret));
                var prefixes = new List<string>();
                foreach (string p in Prefix) prefixes.Add(WebhookPrefix.Check(p));
                _ledger = StatePath is null ? UpdateLedger.InMemory(MaximumRememberedRuns) : UpdateLedger.Open(FileSystemPath(StatePath, nameof(StatePath)), MaximumRememberedRuns);
                if (JournalLine.UnreadableWarning("state file", _ledger.UnreadableLines) is string unreadable) WriteWarning(unreadable);
                if (_ledger.Path != null)
                    WriteVerbose($"The state file '{_ledger.Path}' remembers {_ledger.LoadedCount} run(s)" + (_ledger.Unwritten > 0
                        ? $"; {_ledger.Unwritten} update(s) an earlier receiver answered 200 and did not write are written first."
                        : "."));
                _receiver = new WebhookReceiver(new WebhookReceiverOptions
                {
                    Listener = new WebhookListenerOptions
                    {
                        Prefixes = prefixes,
                        Secrets = _secrets,
                        MaxBodyBytes = MaximumBodySize,
                        BodyTimeout = TimeSpan.FromSeconds(ReadTimeoutSec),
                        HeaderTimeout = TimeSpan.FromSeconds(ReadTimeoutSec),
                        MaxRequestMemoryBytes = MaximumRequestMemory,
                    },
                    MaxBacklog = MaximumBacklog,
                    WaitForRuns = _waitForRuns,
                    FallbackAfter = TimeSpan.FromSeconds(FallbackAfterSec),
                    PollInterval = TimeSpan.FromSeconds(PollIntervalSec),
                    MaxConcurrentPolls = ThrottleLimit,
                    // Polls failing that many times in a row are warned of once; they never end a run here (its webhook may
                    // still come): its deadline does, and without -TimeoutSec it is polled, paced, until it answers.
                    MaxConsecutiveFailures = MaximumRetryCount + 1,
                    Timeout = TimeoutSec > 0 ? TimeSpan.FromSeconds(TimeoutSec) : (TimeSpan?)null,
                    IncludeInterim = IncludeProcessing.IsPresent,
                    RowOf = RunInput.LabelOf, // the one error for the runs neither path finished names their rows
                }, _waitForRuns ? Client : null, _ledger, WantsDiagnostics() ? Log : WarningsOnlyLog.Wrap(Log)); // a flood of bad requests must not queue lines nobody reads
                _receiver.Start(Token);
                WriteVerbose($"Listening on {string.Join(", ", prefixes)}" + (_waitForRuns ? "; waiting for the runs given." : " until stopped" + (TimeoutSec > 0 ? $" or for {TimeoutSec} s." : ".")));
            }
            catch (NenException ex)
            {
                object? target = ex.ErrorId switch
                {
                    NenErrorIds.MissingWebhookSecret => null,
                    NenErrorIds.InvalidWebhookPrefix or NenErrorIds.WebhookListenFailed => Redactor.Redact(string.Join(", ", Prefix)), // a prefix may hold user information
                    _ => StatePath,
                };
                EndWithError(ErrorRecords.From(ex, target));
            }
        }

        protected override void ProcessRecord()
        {
            if (!_waitForRuns) return;
            foreach (RunInput run in Runs())
            {
                switch (_receiver!.Add(run.MessageId, run.Target, run.Status?.Core))
                {
                    case WebhookReceiver.AddResult.AlreadyAdded:
                        WriteVerbose($"Run {run.MessageId} is already being waited for.");
                        break;
                    case WebhookReceiver.AddResult.HandledBefore:
                        _handledBefore++;
                        WriteVerbose($"Run {run.MessageId}: the state file records its final update as acted on already; it is not written again.");
                        break;
                }
            }
            // Updates that arrived while input was still coming go out at once.
            while (_receiver!.TryTake(out ReceivedItem? ready)) Write(ready!);
            ShowProgress();
        }

        protected override void EndProcessing()
        {
            _receiver!.CompleteAdding();
            while (!_receiver.IsDone)
            {
                ReceivedItem? item = Await(_receiver.TakeAsync(TakeWait, Token));
                if (item != null) Write(item);
                ShowProgress();
            }
            _receiver.Stop(); // the port is free before the next command runs
            FlushLog();
            WriteVerbose($"{Activity}: {_receiver.Counters} in {_clock.Elapsed.TotalSeconds:0.0} s" + (_handledBefore > 0 ? $"; {_handledBefore} run(s) acted on before were skipped." : "."));
            if (_handledBefore > 0)
                // A re-run writes nothing twice, so what took these runs last time is not given them again: say so, and
                // how to act on them again when that failed (a download that stopped, say).
                WriteWarning($"{_handledBefore} run(s) were not written: the state file records their final update as written by an earlier receiver (a re-run writes nothing twice). " +
                    "If the command that took them failed (Get-NenRunResult stopped, say), follow them with Wait-NenRun instead, for example: " +
                    "Get-NenRun -JournalPath <the batch's journal> | Wait-NenRun | Get-NenRunResult -Destination <folder> (files saved already are skipped).");
            CompleteProgress(ActivityId, Activity);
            PublishSummary();
        }

        protected override void AddOutcomes(BatchSummary summary)
        {
            if (_receiver is null) return;
            WebhookCounters c = _receiver.Counters;
            if (_waitForRuns)
            {
                // Each run once, under what is known of it, as Wait-NenRun counts them: finished (its final status written;
                // Failed: of those, the ones the service said failed), timed out, its status unknown (its own error), or not
                // followed to the end (the command stopped first), or written before (the state file records its final
                // update as written by an earlier receiver: not written again). They add up to Runs.
                int followed = _receiver.Added, finished = _receiver.Finished, timedOut = _receiver.TimedOut, unknown = _receiver.StatusUnknown;
                summary.Add("Runs", followed + _handledBefore);
                summary.Add("Finished", finished);
                summary.Add("Failed", _receiver.Failed, problem: true);
                summary.Add("TimedOut", timedOut, problem: true);
                summary.Add("StatusUnknown", unknown, problem: true);
                summary.Add("NotFollowed", followed - finished - timedOut - unknown, problem: true);
                summary.Add("WrittenBefore", _handledBefore);
                summary.Add("ByPolling", c.CompletedByPolling);
            }
            summary.Add("Updates", c.Written);
            summary.Add("Recovered", c.Recovered);
            summary.Add("Deliveries", c.Accepted);
            summary.Add("Duplicates", c.Duplicates);
            summary.Add("Refused", c.Refused);
        }

        private void Write(ReceivedItem item) => Write(item, WriteItemError);

        private void Write(ReceivedItem item, Action<ErrorRecord> writeError)
        {
            FlushLog();
            object? target = item.Tag ?? item.MessageId;
            switch (item.Kind)
            {
                case ReceivedItemKind.Update:
                    WriteOutput(new RunStatus(item.Status!, timedOut: false, item.Tag));
                    try
                    {
                        _receiver!.MarkHandled(item);
                    }
                    catch (NenException ex)
                    {
                        EndWithError(ErrorRecords.From(ex, StatePath));
                    }
                    break;
                case ReceivedItemKind.TimedOut:
                    if (item.Status != null) WriteOutput(new RunStatus(item.Status, timedOut: true, item.Tag));
                    if (item.Error != null) writeError(ErrorRecords.From(item.Error, target)); // else named in the one error at the end
                    break;
                case ReceivedItemKind.Error when item.StopsReceiver:
                    _receiver!.Stop();
                    EndWithError(ErrorRecords.From(item.Error!, StatePath));
                    break;
                default:
                    writeError(ErrorRecords.From(item.Error!, target));
                    break;
            }
        }

        /// <summary>
        /// Before the error that ends the command (-ErrorAction Stop): nothing more is answered 200 (the port is freed), and
        /// the updates already answered 200 and handed out are written first, since the sender never sends them again and
        /// once the error is written the pipeline takes no more. Other errors taken meanwhile are warnings.
        /// </summary>
        protected override void StopAtError()
        {
            if (_receiver != null)
            {
                _receiver.Stop();
                while (_receiver.TryTake(out ReceivedItem? item)) Write(item!, record => WriteWarning(record.Exception.Message));
                FlushLog();
            }
            base.StopAtError();
        }

        private void ShowProgress()
        {
            if (_receiver is null || !ProgressDue()) return;
            WebhookCounters c = _receiver.Counters;
            string deliveries = $"{c.Accepted} deliveries ({c.Duplicates} duplicate), {c.Refused} refused";
            WriteProgress(_waitForRuns
                ? new ProgressRecord(ActivityId, Activity, $"{_receiver.Reported} of {_receiver.Added} run(s) done: {_receiver.Finished} finished ({c.CompletedByPolling} by polling), {_receiver.TimedOut} timed out; {deliveries}")
                {
                    PercentComplete = _receiver.Added == 0 ? 0 : Math.Min(100, _receiver.Reported * 100 / _receiver.Added),
                }
                : new ProgressRecord(ActivityId, Activity, $"Listening: {c.Written} update(s) written; {deliveries}"));
        }

        protected override Task? InFlight => _receiver?.WhenIdleAsync();

        /// <summary>Ctrl+C: the port is freed at once, before the pipeline unwinds.</summary>
        protected override void StopProcessing()
        {
            _receiver?.Stop();
            base.StopProcessing();
        }

        protected override void ReleaseResources()
        {
            _receiver?.Dispose();
            _ledger?.Dispose();
            foreach (SecretValue s in _secrets) s.Dispose();
            _secrets.Clear();
        }
    }
}
