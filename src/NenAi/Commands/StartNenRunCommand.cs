using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Threading.Tasks;
using NenAi.Core.Batch;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;
using NenAi.Core.Journal;
using NenAi.Core.Rows;

namespace NenAi.Commands
{
    /// <summary>
    /// Starts Nen workflow runs, one per input row, submitting up to -ThrottleLimit at once while the input
    /// keeps streaming. Each accepted row becomes a NenAi.Run; each failed row a non-terminating error.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Start, "NenRun", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(Run))]
    public sealed class StartNenRunCommand : NenCmdletBase
    {
        private BatchSubmitter? _submitter;
        private RunJournal? _journal;
        private RunRequestFactory? _factory;
        private readonly List<KeyValuePair<string, SecretValue>> _secure = new List<KeyValuePair<string, SecretValue>>();
        private int _rows, _accepted, _skipped, _failed, _unknown;
        private const string MessageIdColumn = "MessageId";
        /// <summary>-Property, -ExcludeProperty or -KeyProperty decides about MessageId: such a column is then one like any other.</summary>
        private bool _messageIdColumnNamed;

        /// <summary>The workflow to run (a GUID). Binds from a WorkflowId column, so one CSV can target several workflows.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        public string? WorkflowId { get; set; }

        /// <summary>The input row: its columns/properties become workflow_params.</summary>
        [Parameter(ValueFromPipeline = true)]
        public PSObject? InputObject { get; set; }

        /// <summary>workflow_params to send (added to, and overriding, the row's columns).</summary>
        [Parameter]
        public Hashtable? Parameter { get; set; }

        /// <summary>secure_workflow_params: values must be SecureString or PSCredential. Requires a signing key.</summary>
        [Parameter]
        public Hashtable? SecureParameter { get; set; }

        /// <summary>URL that receives the run's signed status webhooks.</summary>
        [Parameter]
        public Uri? WebhookCallback { get; set; }

        /// <summary>Columns to send: names, or hashtables @{ Column = 'PARAM_NAME' } to rename.</summary>
        [Parameter]
        public object[]? Property { get; set; }

        /// <summary>Columns never to send as parameters (e.g. an Id used only as -KeyProperty).</summary>
        [Parameter]
        public string[]? ExcludeProperty { get; set; }

        /// <summary>Leave out empty cells, so optional parameters keep their workflow defaults.</summary>
        [Parameter]
        public SwitchParameter OmitEmptyValue { get; set; }

        /// <summary>Runs submitted at once.</summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 8;

        /// <summary>A file recording each row's key and run, so re-running the command never starts a row twice.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? JournalPath { get; set; }

        /// <summary>The column that identifies a row in the journal; without it, a hash of the row is used.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? KeyProperty { get; set; }

        /// <summary>Resend rows whose earlier outcome is unknown, with their original Idempotency-Key.</summary>
        [Parameter]
        public SwitchParameter RetryUnknown { get; set; }

        /// <summary>Deprecated: the old name of -RequestTimeoutSec, still honoured for one release (with a warning).</summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public int TimeoutSec
        {
            get => DeprecatedTimeoutSec ?? RequestTimeoutSec;
            set => DeprecatedTimeoutSec = value;
        }

        protected override void BeginProcessing()
        {
            try
            {
                ReadSecureParameters();
                var exclude = new List<string> { "WorkflowId" };
                if (ExcludeProperty != null) exclude.AddRange(ExcludeProperty);
                IReadOnlyList<KeyValuePair<string, string>>? selection = ReadSelection();
                // -Property sends only the columns it names; -KeyProperty MessageId makes it the row's key (a mail's Message-ID, say).
                _messageIdColumnNamed = selection != null
                    || exclude.Exists(c => string.Equals(c, MessageIdColumn, StringComparison.OrdinalIgnoreCase))
                    || string.Equals(KeyProperty, MessageIdColumn, StringComparison.OrdinalIgnoreCase);
                var mapper = new RowMapper(selection, exclude, OmitEmptyValue.IsPresent);
                _factory = new RunRequestFactory(mapper, _secure, WebhookCallback, KeyProperty, keyed: JournalPath != null);
            }
            catch (NenException ex)
            {
                ThrowTerminatingError(ErrorRecords.From(ex, null));
            }
            // A preview sends nothing, needs no key and writes no journal. Otherwise the batch is set up now, so a
            // configuration error stops the command before the first row is read.
            if (!IsPreview()) EnsureSubmitter();
        }

        /// <summary>-WhatIf as ShouldProcess reads it: a bound -WhatIf (even -WhatIf:$false) wins over $WhatIfPreference.</summary>
        private bool IsPreview() =>
            MyInvocation.BoundParameters.TryGetValue("WhatIf", out object? whatIf)
                ? LanguagePrimitives.IsTrue(whatIf)
                : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));

        /// <summary>Resolves configuration, opens the journal and starts the submitter, once.</summary>
        private void EnsureSubmitter()
        {
            if (_submitter != null) return;
            EnsureConfigured();
            try
            {
                if (_secure.Count > 0 && Client.Options.SigningKey is null)
                    throw new NenException(NenErrorIds.SigningKeyRequired, NenErrorCategory.SecurityError,
                        $"-SecureParameter travels only in HMAC-signed requests, and no signing key is configured. Pass -SigningKey or set {EnvironmentVariables.SigningKey}.");
                if (JournalPath != null) _journal = RunJournal.Open(FileSystemPath(JournalPath, nameof(JournalPath)));
                // The journal is the batch: its id scopes every row's Idempotency-Key. Without one, each command is a new batch.
                if (_journal != null) _factory!.BatchId = _journal.BatchId;
                _submitter = new BatchSubmitter(Client, ThrottleLimit, _journal, RetryUnknown.IsPresent);
                if (_journal?.SkippedLines > 0) WriteWarning($"The journal had {_journal.SkippedLines} unreadable line(s) (a crash mid-write?); they were ignored.");
            }
            catch (NenException ex)
            {
                // The journal is the target of journal errors; a missing signing key concerns no object.
                bool aboutTheJournal = ex.ErrorId == NenErrorIds.JournalInUse || ex.ErrorId == NenErrorIds.JournalWriteFailed || ex.ErrorId == NenErrorIds.JournalCorrupt || ex.ErrorId == NenErrorIds.InvalidPath;
                ThrowTerminatingError(ErrorRecords.From(ex, aboutTheJournal ? JournalPath : null));
            }
        }

        private void ReadSecureParameters()
        {
            if (SecureParameter is null) return;
            foreach (DictionaryEntry entry in SecureParameter)
            {
                string name = entry.Key?.ToString() ?? string.Empty;
                object? value = entry.Value is PSObject ps ? ps.BaseObject : entry.Value;
                SecureString secure = value switch
                {
                    SecureString s => s,
                    PSCredential c => c.Password,
                    _ => throw new NenException(NenErrorIds.InvalidSecureParameter, NenErrorCategory.InvalidArgument,
                        $"The secure parameter '{name}' must be a SecureString or PSCredential, not {(value is null ? "null" : value.GetType().Name)}. Plain text is refused so it cannot leak; use Read-Host -AsSecureString, Get-Credential or Get-Secret."),
                };
                _secure.Add(new KeyValuePair<string, SecretValue>(name, new SecretValue(secure)));
            }
        }

        private IReadOnlyList<KeyValuePair<string, string>>? ReadSelection()
        {
            if (Property is null) return null;
            var selection = new List<KeyValuePair<string, string>>();
            foreach (object item in Property)
            {
                object value = item is PSObject ps ? ps.BaseObject : item;
                if (value is IDictionary map)
                {
                    foreach (DictionaryEntry e in map) selection.Add(new KeyValuePair<string, string>(e.Key?.ToString() ?? string.Empty, e.Value?.ToString() ?? string.Empty));
                }
                else
                {
                    string name = value?.ToString() ?? string.Empty;
                    selection.Add(new KeyValuePair<string, string>(name, name));
                }
            }
            return selection;
        }

        protected override void ProcessRecord()
        {
            _rows++;
            object? target = InputObject ?? (object?)Parameter ?? WorkflowId;
            Core.Models.RunRequest request;
            try
            {
                if (InputObject?.BaseObject is Run || InputObject?.BaseObject is RunStatus)
                    throw new NenException(NenErrorIds.InvalidParameterValue, NenErrorCategory.InvalidArgument,
                        $"The input is a run ({InputObject.BaseObject}), not a row of parameters; it was not sent. To follow runs, pipe them to Wait-NenRun or Get-NenRunResult.");
                // A $null between rows is bound as no input at all; only ExpectingInput tells it from a command without rows.
                if (InputObject is null && MyInvocation.ExpectingInput)
                    throw new NenException(NenErrorIds.InvalidParameterValue, NenErrorCategory.InvalidArgument,
                        "The input is empty (null), not a row of parameters; nothing was sent for it.");
                var row = PSRowReader.Read(InputObject);
                if (InputObject != null && row is null)
                    throw new NenException(NenErrorIds.InvalidParameterValue, NenErrorCategory.InvalidArgument,
                        $"The input '{InputObject}' is not a row: pipe objects with properties (Import-Csv output, [pscustomobject], hashtables).");
                if (row != null && LooksLikeASavedRun(row))
                    throw new NenException(NenErrorIds.InvalidParameterValue, NenErrorCategory.InvalidArgument,
                        "The row has MessageId and Status columns: it looks like a run (Start-NenRun or Wait-NenRun output, or runs saved to CSV and read back), not a row of parameters; it was not sent. "
                        + "To follow runs, pipe them to Wait-NenRun or Get-NenRunResult. To send such rows anyway, choose their columns: -Property names the ones to send, -ExcludeProperty MessageId, Status drops those.");
                request = _factory!.Create(WorkflowId, row, Parameter is null ? null : PSRowReader.FromHashtable(Parameter), target);
            }
            catch (NenException ex)
            {
                _failed++;
                WriteRowError(ErrorRecords.From(ex, target));
                return;
            }

            string description = $"Workflow {request.WorkflowId} with {request.Parameters.Count} parameter(s)"
                + (request.SecureParameters.Count > 0 ? $" and {request.SecureParameters.Count} secure parameter(s)" : string.Empty)
                + (request.RowKey != null ? $", {RowKey.Describe(request.RowKey)}" : string.Empty);
            if (!ShouldProcess(description, "Start Nen run")) return;
            EnsureSubmitter();

            while (!_submitter!.HasFreeSlot) WriteOutcome(Await(_submitter.TakeAsync(Token))!);
            StopIfJournalFailed();
            Await(_submitter.SubmitAsync(request, Token));
            while (_submitter.TryTake(out SubmissionOutcome? ready)) WriteOutcome(ready!);
            ShowProgress();
        }

        protected override void EndProcessing()
        {
            if (_submitter is null) return;
            Drain();
            StopIfJournalFailed();
            CompleteProgress(1, "Start-NenRun");
            WriteVerbose($"Start-NenRun: {_rows} row(s): {_accepted} accepted, {_skipped} already accepted (journal), {_failed} failed, {_unknown} outcome unknown.");
        }

        /// <summary>Writes every outstanding outcome as it completes.</summary>
        private void Drain() => Drain(WriteOutcome);

        /// <summary>Hands every outstanding outcome to <paramref name="write"/> as it completes.</summary>
        private void Drain(Action<SubmissionOutcome> write)
        {
            SubmissionOutcome? outcome;
            while ((outcome = Await(_submitter!.TakeAsync(Token))) != null)
            {
                write(outcome);
                ShowProgress();
            }
        }

        /// <summary>
        /// A journal that cannot be written ends the batch: nothing more is sent (the submitter's gate is closed),
        /// the rows already under way are written out, and one terminating error says which rows are where.
        /// </summary>
        private void StopIfJournalFailed()
        {
            if (_submitter?.JournalFailure is null) return;
            Drain();
            ThrowTerminatingError(JournalFailedRecord());
        }

        /// <summary>The error that ends a batch whose journal cannot be written: which rows are where.</summary>
        private ErrorRecord JournalFailedRecord()
        {
            NenException failure = _submitter!.JournalFailure!;
            string unjournaled = _submitter!.DescribeUnjournaled();
            var error = new NenException(NenErrorIds.JournalWriteFailed, NenErrorCategory.WriteError,
                $"{failure.Message} The batch stopped after {_rows} row(s): {_accepted} accepted and written to the pipeline, {_skipped} already accepted earlier, "
                + $"{_failed} failed or not sent (a re-run sends the ones not sent), {_unknown} with an unknown outcome."
                + (unjournaled.Length > 0 ? $" These may have started a run but are not in the journal, so note them before re-running: {unjournaled}." : " Every run that was started is in the journal.")
                + " Rows after these were not read. Fix the journal's disk or path, then run the same command again.", failure);
            return ErrorRecords.From(error, JournalPath);
        }

        /// <summary>
        /// True for a row shaped like a run (MessageId and Status columns, as NenAi.Run and NenAi.RunStatus have) when
        /// the command chose its columns in no way that concerns MessageId (-Property, -ExcludeProperty, -KeyProperty).
        /// </summary>
        private bool LooksLikeASavedRun(List<KeyValuePair<string, object?>> row) =>
            !_messageIdColumnNamed
            && row.Exists(c => string.Equals(c.Key, MessageIdColumn, StringComparison.OrdinalIgnoreCase))
            && row.Exists(c => string.Equals(c.Key, "Status", StringComparison.OrdinalIgnoreCase));

        private void WriteOutcome(SubmissionOutcome outcome)
        {
            FlushLog();
            switch (outcome.Status)
            {
                case SubmissionStatus.Accepted:
                case SubmissionStatus.AlreadyAccepted:
                    WriteRun(outcome);
                    break;
                default:
                    if (outcome.Status == SubmissionStatus.OutcomeUnknown) _unknown++; else _failed++;
                    WriteRowError(ErrorRecords.From(outcome.Error!, outcome.Request.Tag));
                    break;
            }
        }

        private void WriteRun(SubmissionOutcome outcome)
        {
            if (outcome.Status == SubmissionStatus.Accepted) _accepted++; else _skipped++;
            WriteObject(new Run
            {
                MessageId = outcome.Run!.MessageId,
                WorkflowId = outcome.Run.WorkflowId,
                Status = outcome.Status.ToString(),
                SubmittedAt = outcome.Run.SubmittedAt,
                RowKey = outcome.Request.RowKey,
                IdempotencyKey = outcome.Request.IdempotencyKey,
                InputObject = outcome.Request.Tag,
            });
        }

        /// <summary>
        /// One row's error. When it is going to stop the command (-ErrorAction Stop, $ErrorActionPreference = 'Stop'),
        /// nothing more is sent, the requests already on the wire finish, and every run they started is written first:
        /// once the error is written the pipeline takes no more output, and without a journal it is the only record.
        /// </summary>
        private void WriteRowError(ErrorRecord record)
        {
            if (_submitter != null && ErrorsStopTheCommand())
            {
                _submitter.StopSending(new NenException(NenErrorIds.NotSent, NenErrorCategory.OperationStopped, "The command stopped at an error (-ErrorAction Stop)."));
                Drain(WriteBeforeStopping);
                // A journal that failed is what stopped the batch; its error says which rows are where.
                if (_submitter.JournalFailure != null) ThrowTerminatingError(JournalFailedRecord());
            }
            WriteError(record);
        }

        /// <summary>
        /// An outcome that comes in while the command is stopping at an error: runs are written; a row that may have
        /// started a run is a warning with its Idempotency-Key (only one error can be written); a row not sent is counted.
        /// </summary>
        private void WriteBeforeStopping(SubmissionOutcome outcome)
        {
            switch (outcome.Status)
            {
                case SubmissionStatus.Accepted:
                case SubmissionStatus.AlreadyAccepted:
                    WriteRun(outcome);
                    break;
                case SubmissionStatus.OutcomeUnknown:
                    _unknown++;
                    string? key = outcome.Request.RowKey;
                    WriteWarning((key != null ? RowKey.Describe(key) + ": " : string.Empty) + outcome.Error!.Message);
                    break;
                default:
                    _failed++;
                    break;
            }
        }

        /// <summary>The error action WriteError will apply: -ErrorAction when given, else $ErrorActionPreference.</summary>
        private bool ErrorsStopTheCommand()
        {
            object? preference = MyInvocation.BoundParameters.TryGetValue("ErrorAction", out object? bound) ? bound : GetVariableValue("ErrorActionPreference");
            return LanguagePrimitives.TryConvertTo(preference, out ActionPreference action) && action == ActionPreference.Stop;
        }

        private void ShowProgress()
        {
            if (!ProgressDue()) return;
            WriteProgress(new ProgressRecord(1, "Start-NenRun", $"{_accepted + _skipped} accepted, {_failed} failed, {_unknown} unknown, {_submitter?.InFlight ?? 0} in flight"));
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                CancelBackgroundWork(); // Ctrl+C: stop whatever is still in flight
                // No request may outlive the command, and the journal must record how each one ended.
                try { _submitter?.WhenIdleAsync().Wait(TimeSpan.FromSeconds(30)); }
                catch (AggregateException) { }
                _journal?.Dispose();
                _submitter?.Dispose();
                foreach (var s in _secure) s.Value.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
