using System;
using System.Diagnostics;
using System.Management.Automation;
using System.Net;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Logging;

namespace NenAi.Commands
{
    /// <summary>
    /// The common parameters of every networked cmdlet and the plumbing they share: one cancellation token that
    /// StopProcessing (Ctrl+C) cancels, core log lines written on the pipeline thread, the one reader of preference
    /// variables, what an error does when it stops the command, a downstream stop, the one error for a service that
    /// stopped working for everyone, and the one in-flight policy on Dispose.
    /// </summary>
    public abstract class NenCmdletBase : PSCmdlet, IDisposable
    {
        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();
        private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(200);
        private readonly Stopwatch _progressClock = Stopwatch.StartNew();
        /// <summary>When the last progress record was written; null while none has been.</summary>
        private TimeSpan? _lastProgress;
        private bool? _progressWanted;
        private bool _progressClosed;
        private bool _disposed;
        private bool? _errorsStop;
        private bool _stoppingAtError;
        private bool _downstreamStopped;
        private NenApiClient? _client;
        private readonly BatchSummary _summary;
        private readonly Stopwatch _summaryClock = Stopwatch.StartNew();
        private bool _summaryPublished;

        // The connection parameters are virtual so that a cmdlet with a parameter set that sends nothing
        // (Get-NenRun -JournalPath) can pin them to the sets that do: its Get-Help syntax then offers only
        // what each set honours. An override restates [Parameter] and validation (attributes are not inherited).

        /// <summary>The API's base URL; falls back to the session's (Connect-NenService), NEN_BASE_URL, then https://api.getnen.ai.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public virtual string? BaseUri { get; set; }

        /// <summary>The API key; falls back to the session's (Connect-NenService), then NEN_API_KEY.</summary>
        [Parameter]
        [SecureStringTransformation]
        public virtual SecureString? ApiKey { get; set; }

        /// <summary>The HMAC signing key; falls back to the session's, then NEN_SIGNING_KEY. When set, every request is signed.</summary>
        [Parameter]
        [SecureStringTransformation]
        public virtual SecureString? SigningKey { get; set; }

        /// <summary>An explicit proxy; without it the system proxy is used.</summary>
        [Parameter]
        public virtual Uri? Proxy { get; set; }

        /// <summary>Credentials for the proxy: -Proxy's, or the system proxy's when -Proxy is not given.</summary>
        [Parameter]
        [Credential]
        public virtual PSCredential? ProxyCredential { get; set; }

        /// <summary>Authenticate to the proxy (-Proxy's or the system's) as the current user (integrated authentication).</summary>
        [Parameter]
        public virtual SwitchParameter ProxyUseDefaultCredentials { get; set; }

        /// <summary>Connect directly, ignoring any system proxy.</summary>
        [Parameter]
        public virtual SwitchParameter NoProxy { get; set; }

        /// <summary>Accept any server certificate (a test server, a TLS-inspecting proxy). The connection is then not authenticated.</summary>
        [Parameter]
        public virtual SwitchParameter SkipCertificateCheck { get; set; }

        /// <summary>A client certificate for TLS client authentication (with its private key).</summary>
        [Parameter]
        [ValidateNotNull]
        public virtual X509Certificate? Certificate { get; set; }

        /// <summary>
        /// How often one request is retried after a failure that may pass (a timeout, a reset, a 5xx to a status query or
        /// download, no server reached); 429/503 are waited out for -RetryBudgetSec instead.
        /// </summary>
        [Parameter]
        [ValidateRange(0, 20)]
        public virtual int MaximumRetryCount { get; set; } = NenClientOptions.DefaultMaximumRetryCount;

        /// <summary>
        /// The retry budget, in seconds: how long the command waits out a service that refuses every request (429/503 with
        /// Retry-After: the whole command pauses, not each item) before it stops with one error, and how long retries may
        /// add to one request. A Retry-After beyond it stops the command at once. The same name and meaning on every
        /// networked cmdlet.
        /// </summary>
        [Parameter]
        [ValidateRange(0, 86400)]
        public virtual int RetryBudgetSec { get; set; } = (int)NenClientOptions.DefaultMaximumRetryDuration.TotalSeconds;

        /// <summary>Allows plain http:// to a host other than loopback (credentials would travel unencrypted).</summary>
        [Parameter]
        public virtual SwitchParameter AllowInsecureHttp { get; set; }

        /// <summary>Do not show the progress bar (it is also off when $ProgressPreference is SilentlyContinue).</summary>
        [Parameter]
        public virtual SwitchParameter NoProgress { get; set; }

        protected NenCmdletBase()
        {
            _summary = new BatchSummary(CommandName(GetType()), DateTimeOffset.Now);
        }

        /// <summary>"Start-NenRun" from the [Cmdlet] attribute of <paramref name="type"/>.</summary>
        private static string CommandName(Type type) =>
            type.GetCustomAttributes(typeof(CmdletAttribute), false) is object[] a && a.Length > 0 && a[0] is CmdletAttribute c ? c.VerbName + "-" + c.NounName : type.Name;

        /// <summary>The name of a variable (no $) that receives a NenAi.BatchSummary of what the command did, when it ends however it ends.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? SummaryVariable { get; set; }

        protected CancellationToken Token => _cancel.Token;

        internal PipelineLog Log { get; } = new PipelineLog();

        /// <summary>
        /// Seconds one HTTP request may take (each attempt; for a download, also the longest pause between two pieces
        /// of its body). The same name and meaning on every networked cmdlet, so one set of parameters splats onto all.
        /// </summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public virtual int RequestTimeoutSec
        {
            get => _requestTimeoutSec ?? DefaultRequestTimeoutSec;
            set => _requestTimeoutSec = value;
        }

        private int? _requestTimeoutSec;

        /// <summary>-RequestTimeoutSec when it is not given.</summary>
        protected virtual int DefaultRequestTimeoutSec => 100;

        /// <summary>
        /// A request timeout given with the old name -TimeoutSec (Start-NenRun and Get-NenRunResult, before
        /// -RequestTimeoutSec existed): still used for one release, with a warning, unless -RequestTimeoutSec is given.
        /// </summary>
        protected int? DeprecatedTimeoutSec { get; set; }

        /// <summary>Resolves configuration (parameters, then the session's connection, then NEN_* variables) and returns the shared client.</summary>
        protected NenApiClient Client => _client ??= CreateClient();

        private NenApiClient CreateClient()
        {
            SecretValue? apiKey = ApiKey is null ? null : new SecretValue(ApiKey);
            SecretValue? signingKey = SigningKey is null ? null : new SecretValue(SigningKey);
            NenClientOptions options = NenClientOptions.Resolve(BaseUri, apiKey, signingKey, allowInsecureHttp: AllowInsecureHttp.IsPresent, session: SessionConnections.Current(SessionState));
            options.MaximumRetryCount = MaximumRetryCount;
            options.MaximumRetryDuration = TimeSpan.FromSeconds(RetryBudgetSec);
            options.Timeout = TimeSpan.FromSeconds(EffectiveRequestTimeoutSec());
            ApplyConnectionSettings(options);
            // Per-request lines cost time on big batches; format them only when someone will see them.
            var client = new NenApiClient(options, WantsDiagnostics() ? Log : null);
            if (SkipCertificateCheck.IsPresent)
                WriteWarning("-SkipCertificateCheck: the server's TLS certificate is not checked, so anyone on the way could pose as the service and read the API key. Use it only for a test server or a proxy you trust.");
            return client;
        }

        /// <summary>-RequestTimeoutSec, else a deprecated -TimeoutSec (warned about), else the cmdlet's default.</summary>
        private int EffectiveRequestTimeoutSec()
        {
            if (DeprecatedTimeoutSec is int old)
            {
                string name = MyInvocation.MyCommand.Name;
                if (_requestTimeoutSec.HasValue)
                {
                    WriteWarning($"{name}: -TimeoutSec is deprecated and was ignored, as -RequestTimeoutSec is given.");
                }
                else
                {
                    WriteWarning($"{name}: -TimeoutSec is deprecated; use -RequestTimeoutSec, the per-request limit every networked cmdlet takes. "
                        + "-TimeoutSec still works here for this release (Wait-NenRun's -TimeoutSec limits the whole wait, a different thing).");
                    return old;
                }
            }
            return RequestTimeoutSec;
        }

        /// <summary>Proxy and certificate parameters onto <paramref name="options"/>; contradictory ones are refused.</summary>
        private void ApplyConnectionSettings(NenClientOptions options)
        {
            if (NoProxy.IsPresent && (Proxy != null || ProxyCredential != null || ProxyUseDefaultCredentials.IsPresent))
                throw new NenException(NenErrorIds.InvalidProxySettings, NenErrorCategory.InvalidArgument,
                    "-NoProxy connects directly, so -Proxy, -ProxyCredential and -ProxyUseDefaultCredentials cannot go with it.");
            if (ProxyCredential != null && ProxyUseDefaultCredentials.IsPresent)
                throw new NenException(NenErrorIds.InvalidProxySettings, NenErrorCategory.InvalidArgument,
                    "Use either -ProxyCredential or -ProxyUseDefaultCredentials, not both.");
            if (NoProxy.IsPresent) options.ProxyMode = ProxyMode.None;
            else if (Proxy != null)
            {
                options.ProxyMode = ProxyMode.Explicit;
                options.ProxyUri = Proxy;
            }
            // Without -Proxy, credentials are for the system proxy.
            if (ProxyCredential != null) options.ProxyCredential = ToProxyCredentials(ProxyCredential);
            options.ProxyUseDefaultCredentials = ProxyUseDefaultCredentials.IsPresent;
            options.SkipCertificateCheck = SkipCertificateCheck.IsPresent;
            if (Certificate != null) options.ClientCertificate = Certificate as X509Certificate2 ?? new X509Certificate2(Certificate);
        }

        /// <summary>DOMAIN\user splits into domain and user, as NetworkCredential has them; the password stays secure.</summary>
        private static ProxyCredentials ToProxyCredentials(PSCredential credential)
        {
            string user = credential.UserName ?? string.Empty;
            int slash = user.IndexOf('\\');
            return slash > 0
                ? new ProxyCredentials(user.Substring(slash + 1), new SecretValue(credential.Password), user.Substring(0, slash))
                : new ProxyCredentials(user, new SecretValue(credential.Password));
        }

        /// <summary>
        /// The one reader of preferences: a common parameter's value when it is bound (-ErrorAction, -Verbose, -WhatIf,
        /// even -WhatIf:$false), else its preference variable ($ErrorActionPreference, …), as PowerShell applies them.
        /// </summary>
        private object? Effective(string parameter, string preferenceVariable) =>
            MyInvocation.BoundParameters.TryGetValue(parameter, out object? bound) ? bound : GetVariableValue(preferenceVariable);

        /// <summary>True when a stream's records would be shown: its switch, else its preference is not SilentlyContinue or Ignore.</summary>
        private bool Shows(string parameter, string preferenceVariable)
        {
            object? value = Effective(parameter, preferenceVariable);
            if (value is SwitchParameter || value is bool) return LanguagePrimitives.IsTrue(value);
            return !(LanguagePrimitives.TryConvertTo(value, out ActionPreference p) && (p == ActionPreference.SilentlyContinue || p == ActionPreference.Ignore));
        }

        /// <summary>True when -Verbose or -Debug (or their preference variables) will show log lines.</summary>
        protected bool WantsDiagnostics() => Shows("Verbose", "VerbosePreference") || Shows("Debug", "DebugPreference");

        /// <summary>-WhatIf as ShouldProcess reads it: nothing is sent, no key is needed, no journal is written.</summary>
        protected bool IsPreview() => LanguagePrimitives.IsTrue(Effective("WhatIf", "WhatIfPreference"));

        /// <summary>The error action WriteError will apply stops the command (-ErrorAction Stop, $ErrorActionPreference = 'Stop').</summary>
        protected bool ErrorsStopTheCommand => _errorsStop ??=
            LanguagePrimitives.TryConvertTo(Effective("ErrorAction", "ErrorActionPreference"), out ActionPreference action) && action == ActionPreference.Stop;

        /// <summary>
        /// One item's error (a row, a run). When it is going to stop the command, nothing new starts first:
        /// <see cref="StopAtError"/> lets the work in flight finish and writes what it finished, since once the error is
        /// written the pipeline takes no more output.
        /// </summary>
        protected void WriteItemError(ErrorRecord record)
        {
            CountError(record);
            if (ErrorsStopTheCommand && !_stoppingAtError)
            {
                _stoppingAtError = true;
                StopAtError();
                PublishSummary(stopped: true); // the error below ends the command
            }
            WriteError(record);
        }

        /// <summary>The command's own end by an error (a refused key, a journal that failed, bad settings): counted, summed up, thrown.</summary>
        protected void EndWithError(ErrorRecord record)
        {
            CountError(record);
            PublishSummary(stopped: true);
            ThrowTerminatingError(record);
        }

        /// <summary>
        /// The one error of a command whose batch stopped early (the service stopped working for everyone, a journal
        /// failed) while what it finished stays the user's: written as a non-terminating error after everything else,
        /// so `$r = ... |` keeps the output and the commands after this one go on with it. -ErrorAction Stop (or
        /// $ErrorActionPreference = 'Stop') still makes it end the command and the script. The summary says Stopped.
        /// </summary>
        protected void WriteStopError(ErrorRecord record)
        {
            CountError(record);
            PublishSummary(stopped: true);
            WriteError(record);
        }

        private void CountError(ErrorRecord record)
        {
            string id = record.FullyQualifiedErrorId;
            int comma = id.IndexOf(',');
            _summary.CountError(comma > 0 ? id.Substring(0, comma) : id);
        }

        /// <summary>Adds the command's outcome counts to its summary (Accepted, Failed, NotSent, ...).</summary>
        protected virtual void AddOutcomes(BatchSummary summary) { }

        /// <summary>The journal the command used, named in its summary.</summary>
        protected virtual string? SummaryJournalPath => null;

        /// <summary>
        /// Once, when the command ends (normally, at an error that ends it, or when the pipeline takes no more output):
        /// sets -SummaryVariable in the caller's scope and writes the summary's one line to the Information stream
        /// (tags NenAi, Summary), so transcripts and -InformationAction Continue show it.
        /// </summary>
        protected void PublishSummary(bool stopped = false)
        {
            if (_summaryPublished) return;
            _summaryPublished = true;
            _summary.Elapsed = _summaryClock.Elapsed;
            _summary.Stopped = stopped;
            _summary.JournalPath = SummaryJournalPath;
            AddOutcomes(_summary);
            if (SummaryVariable != null) SessionState.PSVariable.Set(SummaryVariable, _summary);
            try
            {
                WriteInformation(_summary.ToString(), new[] { "NenAi", "Summary" });
            }
            catch (PipelineStoppedException) { } // the pipeline is already stopping: the variable has it
        }

        /// <summary>Before the error that stops the command: start nothing more, finish what is in flight, write what it finished.</summary>
        protected virtual void StopAtError() => CancelBackgroundWork();

        /// <summary>True once an error is stopping the command (outcomes still arriving are written before it).</summary>
        protected bool StoppingAtError => _stoppingAtError;

        /// <summary>
        /// Writes output. A downstream command that takes no more (Select-Object -First) ends this one normally:
        /// <see cref="OnDownstreamStop"/> settles what is in flight, and the stop goes on upstream.
        /// </summary>
        protected void WriteOutput(object item)
        {
            try
            {
                WriteObject(item);
            }
            catch (PipelineStoppedException) when (!Stopping && !_downstreamStopped)
            {
                _downstreamStopped = true;
                OnDownstreamStop();
                PublishSummary();
                throw;
            }
        }

        /// <summary>
        /// The pipeline takes no more output (not Ctrl+C: that is StopProcessing). Warnings may still be written here.
        /// By default the work in flight is stopped: reads have no outcome worth waiting for.
        /// </summary>
        protected virtual void OnDownstreamStop() => CancelBackgroundWork();

        /// <summary>
        /// The one error that ends a command whose service stopped working for everyone (an outage, refused
        /// credentials, a storm past the retry budget): the circuit's reason, id and category, then what became of the
        /// items. Never one error per item.
        /// </summary>
        protected void StopForService(BatchCircuit circuit, string whatBecame, object? target)
        {
            NenException reason = circuit.ClosedBecause!;
            EndWithError(ErrorRecords.From(reason.WithMessage(reason.Message + " " + whatBecame), target));
        }

        /// <summary>
        /// A path parameter as a file-system path (relative to the current location, PowerShell drives resolved).
        /// Anything else (Env:\x, Variable:\x, a character no file name may hold) is refused: the module writes files.
        /// </summary>
        protected string FileSystemPath(string path, string parameter)
        {
            string resolved;
            ProviderInfo provider;
            try
            {
                resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out provider, out _);
            }
            catch (Exception ex) when (ex is ArgumentException || ex is NotSupportedException || ex is ItemNotFoundException || ex is DriveNotFoundException || ex is ProviderNotFoundException || ex is PSArgumentException)
            {
                throw new NenException(NenErrorIds.InvalidPath, NenErrorCategory.InvalidArgument, $"-{parameter} '{path}' is not a usable path: {ex.Message}", ex);
            }
            if (!string.Equals(provider.Name, "FileSystem", StringComparison.OrdinalIgnoreCase))
                throw new NenException(NenErrorIds.InvalidPath, NenErrorCategory.InvalidArgument,
                    $"-{parameter} '{path}' is on the {provider.Name} provider; it must be a file-system path.");
            if (resolved.IndexOf('\0') >= 0 || resolved.IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0)
                throw new NenException(NenErrorIds.InvalidPath, NenErrorCategory.InvalidArgument, $"-{parameter} holds a character no path may hold.");
            return resolved;
        }

        /// <summary>Turns a configuration failure into a terminating error with its stable id.</summary>
        protected void EnsureConfigured()
        {
            try
            {
                _ = Client;
            }
            catch (NenException ex)
            {
                // The URL as given may carry a password (user info): never as the target.
                EndWithError(ErrorRecords.From(ex, BaseUri is null ? null : Redactor.Redact(BaseUri)));
            }
        }

        /// <summary>Waits for <paramref name="task"/> on the pipeline thread, writing log lines as they come.</summary>
        protected T Await<T>(Task<T> task)
        {
            WaitOnPipelineThread(task);
            return task.GetAwaiter().GetResult();
        }

        protected void Await(Task task)
        {
            WaitOnPipelineThread(task);
            task.GetAwaiter().GetResult();
        }

        /// <summary>
        /// Blocks until <paramref name="task"/> ends, flushing log lines every 100 ms. A task that is already done (a
        /// free slot, say: most rows) costs nothing: no wait handle, no continuation, no thread-pool hop. A stop
        /// (Ctrl+C) that cancelled the task becomes PipelineStoppedException when the result is read.
        /// </summary>
        private void WaitOnPipelineThread(Task task)
        {
            while (!task.IsCompleted)
            {
                // Wait(timeout) spins briefly before it blocks, so an outcome that is about to land is taken at once.
                // It throws for a failed task; the caller's GetResult() then throws the real exception.
                try { task.Wait(100); }
                catch (AggregateException) { break; }
                FlushLog();
            }
            FlushLog();
            if (task.IsCanceled && Token.IsCancellationRequested) throw new PipelineStoppedException();
            if (task.IsFaulted && task.Exception?.InnerException is OperationCanceledException && Token.IsCancellationRequested) throw new PipelineStoppedException();
        }

        protected void FlushLog()
        {
            while (Log.TryDequeue(out var line))
            {
                switch (line.Kind)
                {
                    case PipelineLog.Kind.Verbose: WriteVerbose(line.Message); break;
                    case PipelineLog.Kind.Debug: WriteDebug(line.Message); break;
                    default: WriteWarning(line.Message); break;
                }
            }
        }

        /// <summary>
        /// True when a progress update should be written now: progress is wanted (no -NoProgress, and
        /// $ProgressPreference shows it) and the last update is at least 200 ms old, so big batches are not
        /// slowed by the host. Callers build the record only when this says so.
        /// </summary>
        protected bool ProgressDue()
        {
            if (_progressClosed || !ProgressWanted) return false;
            TimeSpan now = _progressClock.Elapsed;
            if (_lastProgress.HasValue && now - _lastProgress.Value < ProgressInterval) return false;
            _lastProgress = now;
            return true;
        }

        /// <summary>Closes the progress bar of <paramref name="activityId"/>, if one was shown.</summary>
        protected void CompleteProgress(int activityId, string activity)
        {
            if (_lastProgress is null || _progressClosed) return;
            _progressClosed = true; // once closed, no update may reopen the bar
            WriteProgress(new ProgressRecord(activityId, activity, "Done") { RecordType = ProgressRecordType.Completed });
        }

        private bool ProgressWanted => _progressWanted ??= !NoProgress.IsPresent && Shows("ProgressAction", "ProgressPreference");

        protected override void StopProcessing() => CancelBackgroundWork();

        /// <summary>Stops the core's background work (e.g. -Any has its answer) without stopping the pipeline.</summary>
        protected void CancelBackgroundWork()
        {
            // Ctrl+C may arrive while, or after, the pipeline disposes this command.
            try { _cancel.Cancel(); }
            catch (ObjectDisposedException) { }
        }

        /// <summary>Work still running in the background (requests on the wire, a scheduler); null when there is none.</summary>
        protected virtual Task? InFlight => null;

        /// <summary>True when requests in flight have an outcome worth waiting for (a POST whose run must be journaled).</summary>
        protected virtual bool LetInFlightFinish => false;

        /// <summary>No new request may leave (called first on Dispose, whatever ended the command).</summary>
        protected virtual void StopStartingWork() { }

        /// <summary>Frees what the command holds, once nothing runs in the background any more.</summary>
        protected virtual void ReleaseResources() { }

        /// <summary>
        /// The one in-flight policy: no request outlives the command. Nothing new starts; requests on the wire get up to
        /// the request timeout to end (reads, and everything after Ctrl+C, are cancelled first, so they end at once);
        /// whatever still runs then is cancelled.
        /// </summary>
        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            StopStartingWork();
            if (!LetInFlightFinish) CancelBackgroundWork();
            Task? work = InFlight;
            if (work != null && !WaitQuietly(work, (_client?.Options.Timeout ?? TimeSpan.FromSeconds(DefaultRequestTimeoutSec)) + DisposeMargin))
            {
                CancelBackgroundWork();
                WaitQuietly(work, DisposeMargin);
            }
            CancelBackgroundWork();
            ReleaseResources();
            _cancel.Dispose();
            GC.SuppressFinalize(this);
        }

        /// <summary>What a request needs beyond its timeout to end after it is cancelled (and its outcome to be journaled).</summary>
        private static readonly TimeSpan DisposeMargin = TimeSpan.FromSeconds(5);

        private static bool WaitQuietly(Task task, TimeSpan timeout)
        {
            try { return task.Wait(timeout); }
            catch (AggregateException) { return true; }
        }
    }
}
