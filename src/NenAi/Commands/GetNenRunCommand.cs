using System;
using System.Management.Automation;
using System.Threading.Tasks;
using NenAi.Core.Errors;
using NenAi.Core.Journal;
using NenAi.Core.Lookup;

namespace NenAi.Commands
{
    /// <summary>
    /// The current status of runs, one GET each, -ThrottleLimit at once, written as the answers arrive (no
    /// waiting for runs to finish). With -JournalPath: the runs a batch's journal records, read without its lock
    /// and without any request, so a batch that died can be resumed with Wait-NenRun | Get-NenRunResult.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "NenRun", DefaultParameterSetName = ByInput)]
    [OutputType(typeof(RunStatus), ParameterSetName = new[] { ByInput, ById })]
    [OutputType(typeof(Run), ParameterSetName = new[] { ByJournal })]
    public sealed partial class GetNenRunCommand : StatusQueryCmdletBase
    {
        private const string ByJournal = "ByJournal";
        private StatusLookup? _lookup;
        private int _asked, _answered, _notFound, _unknown, _listed, _withoutRun;


        /// <summary>A Start-NenRun journal whose runs to list (no request is made).</summary>
        [Parameter(Mandatory = true, ParameterSetName = ByJournal)]
        [ValidateNotNullOrEmpty]
        public string JournalPath { get; set; } = string.Empty;


        protected override void BeginProcessing()
        {
            // Listing a journal needs no configuration: it makes no request.
            if (ParameterSetName == ByJournal) return;
            EnsureConfigured();
            _lookup = new StatusLookup(Client, ThrottleLimit) { StopAtFirstError = ErrorsStopTheCommand };
        }

        protected override void ProcessRecord()
        {
            if (ParameterSetName == ByJournal)
            {
                ListJournal();
                return;
            }
            foreach (RunInput run in Runs())
            {
                while (!_lookup!.HasFreeSlot) WriteOutcome(Await(_lookup.TakeAsync(Token))!);
                EndIfTheServiceStopped();
                Await(_lookup.AddAsync(run.MessageId, run.Target, Token));
                _asked++;
                while (_lookup.TryTake(out LookupOutcome? ready)) WriteOutcome(ready!);
                ShowProgress();
            }
        }

        protected override void EndProcessing()
        {
            if (_lookup != null)
            {
                Drain(WriteOutcome);
                EndIfTheServiceStopped();
                CompleteProgress(4, "Get-NenRun");
            }
            PublishSummary();
        }

        protected override void AddOutcomes(BatchSummary summary)
        {
            if (ParameterSetName == ByJournal)
            {
                summary.Add("Listed", _listed);
                summary.Add("WithoutRun", _withoutRun, problem: true);
                return;
            }
            // Each run once: answered (its status written), not found (the service does not know it: that, not a failure to
            // ask), or its status unknown (its own error, or counted in the one error that stopped the queries, whether or not
            // a request of it had left). They add up to Runs.
            summary.Add("Runs", _asked);
            summary.Add("Answered", _answered);
            summary.Add("NotFound", _notFound, problem: true);
            summary.Add("StatusUnknown", _unknown, problem: true);
        }

        /// <summary>The journal listed; none when runs were asked about (JournalPath is then empty, not null).</summary>
        protected override string? SummaryJournalPath => ParameterSetName == ByJournal ? JournalPath : null;

        private void Drain(Action<LookupOutcome> write)
        {
            LookupOutcome? outcome;
            while ((outcome = Await(_lookup!.TakeAsync(Token))) != null)
            {
                write(outcome);
                ShowProgress();
            }
        }

        /// <summary>An unreachable service, a refused key or an outage stops every query: one error for all, once the answers in hand are written.</summary>
        private void EndIfTheServiceStopped()
        {
            if (_lookup is null || !_lookup.Circuit.TrippedByService) return;
            Drain(WriteOutcome);
            StopForService(_lookup.Circuit,
                $"Of {_asked} run(s): {_answered} answered and written, {_notFound} not found, {_unknown} without an answer (status unknown); runs after these were not read. The runs themselves are not affected: ask again once what stopped it is fixed.",
                null);
        }

        private void WriteOutcome(LookupOutcome outcome)
        {
            FlushLog();
            if (outcome.Status != null)
            {
                _answered++;
                WriteOutput(new RunStatus(outcome.Status, timedOut: false, outcome.Tag));
                return;
            }
            if (outcome.Error!.ErrorId == NenErrorIds.RunNotFound) _notFound++;
            else _unknown++;
            if (!StoppedTheQueries(outcome.Error!)) WriteItemError(ErrorRecords.From(outcome.Error!, outcome.Tag ?? outcome.MessageId));
        }

        /// <summary>Not asked again (the queries stopped first), or met the very reason they stopped: counted in its one error.</summary>
        private bool StoppedTheQueries(Core.Errors.NenException error) =>
            error is NenNotSentException
            || (_lookup!.Circuit.TrippedByService && error.ErrorId == _lookup.Circuit.ClosedBecause!.ErrorId);

        /// <summary>Before the error that stops the command: no new query leaves; the answers in hand are written first.</summary>
        protected override void StopAtError()
        {
            if (_lookup is null) return;
            _lookup.Circuit.Close(new NenException(NenErrorIds.NotSent, NenErrorCategory.OperationStopped, "The command stopped at an error (-ErrorAction Stop)."));
            Drain(outcome =>
            {
                if (outcome.Status != null) { WriteOutcome(outcome); return; }
                if (outcome.Error!.ErrorId == NenErrorIds.RunNotFound) _notFound++;
                else _unknown++;
                if (!StoppedTheQueries(outcome.Error!)) WriteWarning(ErrorRecords.From(outcome.Error!, outcome.Tag ?? outcome.MessageId).Exception.Message); // names its row
            });
        }

        /// <summary>One object per journal row: accepted rows as runs to follow, the others as errors saying why they have none.</summary>
        private void ListJournal()
        {
            JournalSnapshot journal;
            try
            {
                journal = JournalReader.Read(FileSystemPath(JournalPath!, nameof(JournalPath)));
            }
            catch (NenException ex)
            {
                EndWithError(ErrorRecords.From(ex, JournalPath));
                return;
            }
            if (JournalLine.UnreadableWarning("journal", journal.UnreadableLines) is string unreadable) WriteWarning(unreadable);
            WriteVerbose($"The journal '{journal.Path}' records {journal.Rows.Count} row(s).");
            foreach (JournalEntry row in journal.Rows)
            {
                NenException? problem = JournalRowProblem.Of(row, journal.Path);
                if (problem != null)
                {
                    _withoutRun++;
                    WriteItemError(ErrorRecords.From(problem, row));
                    continue;
                }
                _listed++;
                WriteOutput(Run.Journaled(row));
            }
        }

        private void ShowProgress()
        {
            if (!ProgressDue()) return;
            WriteProgress(new ProgressRecord(4, "Get-NenRun", $"{_answered + _notFound + _unknown} of {_asked} asked, {_notFound} not found, {_unknown} without an answer"));
        }

        protected override Task? InFlight => _lookup?.WhenIdleAsync();

        protected override void ReleaseResources() => _lookup?.Dispose();
    }
}
