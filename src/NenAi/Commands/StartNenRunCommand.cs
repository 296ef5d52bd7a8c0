using System;
using System.Collections;
using System.Collections.Generic;
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
    /// Starts Nen workflow runs, one per input row, submitting up to -ThrottleLimit at once while the input keeps
    /// streaming. Each accepted row becomes a NenAi.Run; each failed row a non-terminating error. What a row is, and
    /// every decision about it, lives in the core (RunRequestFactory, BatchSubmitter); this command binds, writes
    /// outcomes, and writes one error when the service stops working for everyone: at the end, after every run it
    /// started, so they stay in the pipeline (and in `$r = ...`) for Wait-NenRun and Get-NenRunResult.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Start, "NenRun", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(Run))]
    public sealed class StartNenRunCommand : NenCmdletBase
    {
        private BatchSubmitter? _submitter;
        private RunJournal? _journal;
        private RunRequestFactory? _factory;
        private readonly List<KeyValuePair<string, SecretValue>> _secure = new List<KeyValuePair<string, SecretValue>>();
        private readonly BatchTally _tally = new BatchTally();
        /// <summary>The batch stopped sending (the service, or the journal): rows read from now on are not sent.</summary>
        private bool _stopped;
        private bool _stopWritten;

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

        /// <summary>The one error for rows with a column -SecureParameter names too was written (later ones are counted).</summary>
        private bool _secureClashTold;

        protected override void BeginProcessing()
        {
            try
            {
                // -WorkflowId as given on the command line (only those are bound yet) is checked before any row is read: a
                // malformed one would be refused for every row. A WorkflowId column is checked row by row (once per id).
                if (MyInvocation.BoundParameters.ContainsKey(nameof(WorkflowId)) && !string.IsNullOrWhiteSpace(WorkflowId))
                    CheckWorkflowIdParameter(WorkflowId!);
                ReadSecureParameters();
                var exclude = new List<string> { "WorkflowId" };
                if (ExcludeProperty != null) exclude.AddRange(ExcludeProperty);
                var mapper = new RowMapper(ReadSelection(), exclude, OmitEmptyValue.IsPresent);
                _factory = new RunRequestFactory(mapper, _secure, WebhookCallback, KeyProperty, keyed: JournalPath != null);
                // A -Parameter key that -SecureParameter names too would send its plain value with every row: refused before any row is read.
                _factory.RefuseSecureClash(Parameter is null ? null : PSRowReader.FromHashtable(Parameter));
            }
            catch (SecureParameterConflictException ex)
            {
                EndWithError(ErrorRecords.From(ex, ex.Name));
            }
            catch (NenException ex)
            {
                EndWithError(ErrorRecords.From(ex, null));
            }
            // A preview sends nothing, needs no key and writes no journal. Otherwise the batch is set up now, so a
            // configuration error stops the command before the first row is read.
            if (!IsPreview()) EnsureSubmitter();
        }

        private void CheckWorkflowIdParameter(string workflowId)
        {
            try
            {
                Core.Http.RunRequestSerializer.ValidateWorkflowId(workflowId);
            }
            catch (MalformedWorkflowIdException ex)
            {
                EndWithError(ErrorRecords.From(ex.WithMessage("-WorkflowId: " + ex.Message + " No row was read and nothing was sent."), workflowId));
            }
        }

        /// <summary>Resolves configuration, opens the journal and starts the submitter, once.</summary>
        private void EnsureSubmitter()
        {
            if (_submitter != null) return;
            EnsureConfigured();
            try
            {
                Client.EnsureCanSign(_secure.Count);
                if (JournalPath != null) _journal = RunJournal.Open(FileSystemPath(JournalPath, nameof(JournalPath)));
                // The journal is the batch: its id scopes every row's Idempotency-Key. Without one, each command is a new batch.
                if (_journal != null) _factory!.BatchId = _journal.BatchId;
                _submitter = new BatchSubmitter(Client, ThrottleLimit, _journal, RetryUnknown.IsPresent) { StopAtFirstFailure = ErrorsStopTheCommand };
                if (JournalLine.UnreadableWarning("journal", _journal?.UnreadableLines ?? 0) is string unreadable) WriteWarning(unreadable);
            }
            catch (NenException ex)
            {
                // The journal is the target of journal errors; a missing signing key concerns no object.
                bool aboutTheJournal = ex.ErrorId == NenErrorIds.JournalInUse || ex.ErrorId == NenErrorIds.JournalWriteFailed || ex.ErrorId == NenErrorIds.JournalCorrupt || ex.ErrorId == NenErrorIds.InvalidPath;
                EndWithError(ErrorRecords.From(ex, aboutTheJournal ? JournalPath : null));
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
            int rowNumber = _tally.Read();
            if (StoppedSending(rowNumber)) return;
            object? target = InputObject ?? (object?)Parameter ?? WorkflowId;
            // Every message about this row names it: its number in the input, and its -KeyProperty value.
            string label = RowLabel.For(rowNumber, null, null);
            Core.Models.RunRequest request;
            RowInput row = RowInput.None;
            try
            {
                row = PSRowReader.ReadInput(InputObject, MyInvocation.ExpectingInput, o => o is Run || o is RunStatus);
                label = _factory!.Label(rowNumber, row);
                request = _factory.Create(WorkflowId, row, Parameter is null ? null : PSRowReader.FromHashtable(Parameter), target, label);
                request.Row = rowNumber;
            }
            catch (NoWorkflowException ex) when (rowNumber == 1)
            {
                // The first row shows the input's shape: nothing is in flight yet, and no row after it could be sent.
                // (A later row without the column, among objects of mixed shape, is that row's own error.)
                _tally.Refused();
                EndWithError(ErrorRecords.From(ex, target, label));
                return;
            }
            catch (MissingColumnException ex) when (rowNumber == 1)
            {
                // -KeyProperty or -Property names a column the first row lacks: a typo, which every row would meet.
                _tally.Refused();
                EndWithError(ErrorRecords.From(ex.WithMessage(ex.Message + " The first row shows the input's shape, so no row was sent." + ColumnsOf(row)), target, label));
                return;
            }
            catch (SecureParameterConflictException ex)
            {
                // The input's shape sends a column -SecureParameter names too: the command's mistake, told once. On the
                // first row nothing is in flight and every row would meet it: the command ends. A later row (input of mixed
                // shape) is refused, and so is every other row with such a column, named in the one error.
                _tally.Refused();
                if (rowNumber == 1) EndWithError(ErrorRecords.From(ex.WithMessage(ex.Message + " No row was sent."), ex.Name, label));
                else if (!_secureClashTold)
                {
                    _secureClashTold = true;
                    WriteItemError(ErrorRecords.From(ex.WithMessage(ex.Message + " This row and any later one with such a column are not sent; the others are."), ex.Name, label));
                }
                else WriteVerbose($"{RowLabel.Capitalized(label)}: not sent: it has a column -SecureParameter names too ('{ex.Name}').");
                return;
            }
            catch (MalformedWorkflowIdException ex)
            {
                // A WorkflowId cell that is not an id: one error per distinct id, the other rows naming it counted.
                if (_tally.RefusedForWorkflow(ex.WorkflowId, rowNumber)) WriteItemError(ErrorRecords.From(BatchTally.RefusedForTheBatch(ex, ex.WorkflowId), target, label));
                return;
            }
            catch (NenException ex)
            {
                _tally.Refused();
                WriteItemError(ErrorRecords.From(ex, target, label));
                return;
            }

            if (!ShouldProcess(RunPreview.Describe(request, label), "Start Nen run"))
            {
                // -WhatIf -Verbose: the body itself, secure values masked (a row whose body cannot be made is its error).
                if (IsPreview() && WantsDiagnostics() && !PreviewBody(request, target, label)) return;
                _tally.Preview();
                return;
            }
            EnsureSubmitter();

            while (!_submitter!.HasFreeSlot) WriteOutcome(Await(_submitter.TakeAsync(Token))!);
            if (StoppedSending(rowNumber)) return;
            Await(_submitter.SubmitAsync(request, Token));
            while (_submitter.TryTake(out SubmissionOutcome? ready)) WriteOutcome(ready!);
            ShowProgress();
        }

        /// <summary>Writes the body a previewed row would send; false (and the row's error) when it has none.</summary>
        private bool PreviewBody(Core.Models.RunRequest request, object? target, string label)
        {
            string body;
            try
            {
                body = RunPreview.Body(request);
            }
            catch (NenException ex)
            {
                _tally.Refused();
                WriteItemError(ErrorRecords.From(ex, target, label));
                return false;
            }
            WriteVerbose($"{RowLabel.Capitalized(label)} would send POST /runs: {body}");
            return true;
        }

        protected override void EndProcessing()
        {
            if (_submitter != null)
            {
                Drain(WriteOutcome);
                StoppedSending(row: 0);
                CompleteProgress(1, "Start-NenRun");
            }
            foreach (string refused in _tally.RefusedWorkflows()) WriteWarning(refused);
            if (_stopped) WriteStop(allRead: true);
            PublishSummary();
        }

        /// <summary>" Its columns are: JobId, NAME." for a message about a column the row lacks.</summary>
        private static string ColumnsOf(RowInput row)
        {
            if (row.Cells is null || row.Cells.Count == 0) return " It has no columns.";
            var names = new List<string>();
            foreach (var cell in row.Cells)
            {
                if (names.Count == 20) { names.Add("..."); break; }
                names.Add(cell.Key);
            }
            return " Its columns are: " + string.Join(", ", names) + ".";
        }

        protected override void AddOutcomes(BatchSummary summary)
        {
            summary.Add("Rows", _tally.Rows);
            summary.Add("Accepted", _tally.Accepted);
            summary.Add("AlreadyAccepted", _tally.AlreadyAccepted);
            // Rows the journal records as sent with other values (each its NenRowChangedSinceSent error); there when there are any.
            if (_tally.ChangedSinceSent > 0) summary.Add("ChangedSinceSent", _tally.ChangedSinceSent, problem: true);
            summary.Add("Failed", _tally.Failed, problem: true);
            summary.Add("Unknown", _tally.Unknown, problem: true);
            summary.Add("NotSent", _tally.NotSent, problem: true);
            if (_tally.Previewed > 0) summary.Add("Previewed", _tally.Previewed);
        }

        protected override string? SummaryJournalPath => JournalPath;

        /// <summary>Hands every outstanding outcome to <paramref name="write"/> as it completes.</summary>
        private void Drain(Action<SubmissionOutcome> write, bool progress = true)
        {
            SubmissionOutcome? outcome;
            while ((outcome = Await(_submitter!.TakeAsync(Token))) != null)
            {
                write(outcome);
                if (progress) ShowProgress();
            }
        }

        /// <summary>
        /// True once the batch stopped sending: the journal cannot be written, or the service stopped working for
        /// everyone (an outage, a refused key, a storm past the retry budget). The first time, every row already under
        /// way is written out (its run goes on down the pipeline). From then on each row read (<paramref name="row"/>;
        /// 0: none) is not sent, only counted and named, and the one error that says so is written at the end, after
        /// every run (<see cref="WriteStop"/>); with -ErrorAction Stop it is written at once, ending the command.
        /// </summary>
        private bool StoppedSending(int row)
        {
            if (!_stopped)
            {
                if (_submitter is null || (_submitter.JournalFailure == null && !_submitter.Circuit.TrippedByService)) return false;
                Drain(WriteOutcome);
                _stopped = true;
            }
            if (row > 0) _tally.NotSentAfterStop(row);
            if (ErrorsStopTheCommand) WriteStop(allRead: false);
            return true;
        }

        /// <summary>
        /// The one error of a batch that stopped sending: the journal's, when it cannot be written; the service's, when
        /// it stopped working for everyone. It says how many rows were started, not sent (which ones), unknown or
        /// failed. Non-terminating, so the runs written before it stay in the user's hands.
        /// </summary>
        private void WriteStop(bool allRead)
        {
            if (_stopWritten) return;
            _stopWritten = true;
            ErrorRecord record = _submitter!.JournalFailure != null
                ? JournalFailedRecord(allRead)
                : ErrorRecords.From(_submitter.Circuit.ClosedBecause!.WithMessage(_submitter.Circuit.ClosedBecause.Message + " " + _tally.ServiceStopped(_journal != null, allRead)), JournalPath);
            if (!allRead) WarnStartedRunsLost();
            WriteStopError(record);
        }

        private ErrorRecord JournalFailedRecord(bool allRead = false) =>
            ErrorRecords.From(_tally.JournalFailed(_submitter!.JournalFailure!, _submitter.DescribeUnjournaled(), allRead), JournalPath);

        /// <summary>One row's outcome: a run, its own error, or counted for the one error that ends the batch.</summary>
        private void WriteOutcome(SubmissionOutcome outcome)
        {
            FlushLog();
            switch (_tally.Count(outcome, _submitter!.Circuit))
            {
                case OutcomeShown.Run: WriteRun(outcome); break;
                case OutcomeShown.Error: WriteItemError(ErrorRecords.From(BatchTally.Shown(outcome), outcome.Request.Tag, outcome.Request.Label)); break;
            }
        }

        private void WriteRun(SubmissionOutcome outcome)
        {
            // Without a journal, a script stopped at an error ($runs = ... -ErrorAction Stop) loses the output it was
            // assigning: the runs are named in a warning then (the first ones; counts only beyond that, memory stays flat).
            if (_journal is null && ErrorsStopTheCommand && outcome.Status == SubmissionStatus.Accepted && _startedRuns.Count < StartedRunsNamed)
                _startedRuns.Add(outcome.Run!.MessageId);
            WriteOutput(Run.Started(outcome));
        }

        private const int StartedRunsNamed = 20;
        private readonly List<string> _startedRuns = new List<string>();

        /// <summary>
        /// Before the error that stops the command (-ErrorAction Stop): nothing more is sent, the requests on the wire
        /// finish, and every run they started is written first (once the error is written the pipeline takes no more
        /// output, and without a journal it is the only record). Rows that may have started a run, or failed otherwise,
        /// are warnings (only one error can be written).
        /// </summary>
        protected override void StopAtError()
        {
            if (_submitter is null) return;
            _submitter.StopSending(new NenException(NenErrorIds.NotSent, NenErrorCategory.OperationStopped, "The command stopped at an error (-ErrorAction Stop)."));
            Drain(outcome =>
            {
                switch (_tally.Count(outcome, _submitter.Circuit))
                {
                    case OutcomeShown.Run: WriteRun(outcome); break;
                    case OutcomeShown.Error: WriteWarning(BatchTally.Describe(outcome.Request) + ": " + BatchTally.Shown(outcome).Message); break;
                }
            });
            // A journal that failed is what stopped the batch; its error says which rows are where.
            if (_submitter.JournalFailure != null) EndWithError(JournalFailedRecord());
            WarnStartedRunsLost();
        }

        /// <summary>
        /// -ErrorAction Stop: the error ends the script, and output being assigned to a variable is lost with it. Without a
        /// journal, which would list them, the runs started are named in a warning (the first ones; counts beyond).
        /// </summary>
        private void WarnStartedRunsLost()
        {
            if (_journal is null && _tally.Accepted > 0)
                WriteWarning($"Stopping at an error: this command started {_tally.Accepted} run(s), written to the pipeline before the error (output being assigned to a variable is lost with it): "
                    + string.Join(", ", _startedRuns) + (_tally.Accepted > _startedRuns.Count ? $" and {_tally.Accepted - _startedRuns.Count} more" : string.Empty)
                    + ". Follow them with Wait-NenRun -MessageId; with -JournalPath, Get-NenRun -JournalPath lists them all.");
        }

        /// <summary>
        /// The pipeline took no more output (Select-Object -First): a normal end. Nothing more is sent; the rows on the
        /// wire finish and are journaled, so a re-run neither resends nor doubts them; and the runs they started that
        /// were not written, which would otherwise leave no trace without a journal, are named in a warning.
        /// </summary>
        protected override void OnDownstreamStop()
        {
            if (_submitter is null) return;
            _submitter.StopSending(new NenException(NenErrorIds.NotSent, NenErrorCategory.OperationStopped,
                "The pipeline took no more output: a command after Start-NenRun stopped it (Select-Object -First, or an error that ended that command)."));
            var started = new List<string>();
            var unknown = new List<string>();
            Drain(outcome =>
            {
                _tally.Count(outcome, _submitter.Circuit);
                if (outcome.Status == SubmissionStatus.Accepted) started.Add(outcome.Run!.MessageId);
                else if (outcome.Status == SubmissionStatus.OutcomeUnknown) unknown.Add(BatchTally.Describe(outcome.Request) + " (Idempotency-Key " + outcome.Request.IdempotencyKey + ")");
            }, progress: false);
            string? warning = BatchTally.NotWritten(started, unknown, _journal != null);
            if (warning != null) WriteWarning(warning);
        }

        private void ShowProgress()
        {
            if (!ProgressDue()) return;
            WriteProgress(new ProgressRecord(1, "Start-NenRun", $"{_tally.Accepted + _tally.AlreadyAccepted} accepted, {_tally.Failed} failed, {_tally.Unknown} unknown, {_submitter?.InFlight ?? 0} in flight"));
        }

        protected override Task? InFlight => _submitter?.WhenIdleAsync();

        /// <summary>A POST on the wire may start a run: it finishes (within the request timeout) so its outcome is journaled.</summary>
        protected override bool LetInFlightFinish => true;

        protected override void StopStartingWork() =>
            _submitter?.StopSending(new NenException(NenErrorIds.NotSent, NenErrorCategory.OperationStopped, "The command ended before this row's turn."));

        protected override void ReleaseResources()
        {
            _journal?.Dispose();
            _submitter?.Dispose();
            foreach (var s in _secure) s.Value.Dispose();
        }
    }
}
