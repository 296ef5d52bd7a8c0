using System;
using System.Management.Automation;
using System.Threading.Tasks;
using NenAi.Core.Errors;
using NenAi.Core.Waiting;

namespace NenAi.Commands
{
    /// <summary>
    /// Follows runs until each finishes, polling all of them concurrently (each at most once per interval,
    /// later when the server says Retry-After), and writes each run as soon as it is terminal.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Wait, "NenRun", DefaultParameterSetName = ByInput)]
    [OutputType(typeof(RunStatus))]
    public sealed class WaitNenRunCommand : StatusQueryCmdletBase
    {
        private RunWaiter? _waiter;
        private bool _stopAfterFirst, _downstreamStopped;


        /// <summary>Seconds between two status queries of the same run.</summary>
        [Parameter]
        [ValidateRange(0.05, 3600)]
        public double PollIntervalSec { get; set; } = 5;

        /// <summary>Give up on a run this many seconds after it joined the wait (0: wait for ever). Unfinished runs are written with their last status and a NenWaitTimeout error.</summary>
        [Parameter]
        [ValidateRange(0, RunWaiterOptions.MaxTimeoutSeconds)]
        public int TimeoutSec { get; set; }

        /// <summary>Stop at the first run that finishes.</summary>
        [Parameter]
        public SwitchParameter Any { get; set; }


        protected override void BeginProcessing()
        {
            EnsureConfigured();
            _waiter = new RunWaiter(Client, new RunWaiterOptions
            {
                PollInterval = TimeSpan.FromSeconds(PollIntervalSec),
                MaxConcurrency = ThrottleLimit,
                Timeout = TimeoutSec > 0 ? TimeSpan.FromSeconds(TimeoutSec) : (TimeSpan?)null,
                // Without a deadline, transient failures end a run after as many failed polls as -MaximumRetryCount allows.
                MaxConsecutiveFailures = MaximumRetryCount + 1,
                StopAtFirstError = ErrorsStopTheCommand,
            }, Log);
            _waiter.Start(Token);
        }

        protected override void ProcessRecord()
        {
            if (_stopAfterFirst) return;
            foreach (RunInput run in Runs())
            {
                if (!_waiter!.Add(run.MessageId, run.Target, run.Status?.Core)) WriteVerbose($"Run {run.MessageId} is already being followed.");
            }
            // Runs that finished while input was still arriving go out at once.
            while (!_stopAfterFirst && _waiter!.TryTake(out WaitOutcome? ready)) WriteOutcome(ready!);
            EndIfTheServiceStopped();
            ShowProgress();
        }

        protected override void EndProcessing()
        {
            if (!_stopAfterFirst)
            {
                Drain(WriteOutcome);
                EndIfTheServiceStopped();
                CompleteProgress(2, "Wait-NenRun");
            }
            PublishSummary();
        }

        /// <summary>
        /// Each run once, under what is known of it: Succeeded and Failed as the service said, TimedOut, StatusUnknown (its
        /// status could not be read: its own error), NotFollowed (the wait stopped first). They add up to Runs.
        /// </summary>
        protected override void AddOutcomes(BatchSummary summary)
        {
            int runs = _waiter?.Added ?? 0, succeeded = _waiter?.Succeeded ?? 0, failed = _waiter?.Failed ?? 0;
            int timedOut = _waiter?.TimedOut ?? 0, unknown = _waiter?.StatusUnknown ?? 0;
            summary.Add("Runs", runs);
            summary.Add("Succeeded", succeeded);
            summary.Add("Failed", failed, problem: true);
            summary.Add("TimedOut", timedOut, problem: true);
            summary.Add("StatusUnknown", unknown, problem: true);
            // Reported Stopped, or still pending when -Any had its run or a later command took no more: not followed to the
            // end either way. Only a wait that stopped on its own (an error, the service) makes that a problem.
            summary.Add("NotFollowed", runs - succeeded - failed - timedOut - unknown, problem: !(Any.IsPresent || _downstreamStopped));
        }

        protected override void OnDownstreamStop()
        {
            _downstreamStopped = true;
            base.OnDownstreamStop();
        }

        /// <summary>No more runs join: every outstanding outcome goes to <paramref name="write"/> as it comes.</summary>
        private void Drain(Action<WaitOutcome> write)
        {
            _waiter!.CompleteAdding();
            WaitOutcome? outcome;
            while (!_stopAfterFirst && (outcome = Await(_waiter.TakeAsync(Token))) != null)
            {
                write(outcome);
                ShowProgress();
            }
        }

        /// <summary>
        /// A service that refuses the key, cannot be reached or fails every query (an outage) stops the wait for every run:
        /// one error for all, once the runs that finished are written, saying what became of each.
        /// </summary>
        private void EndIfTheServiceStopped()
        {
            if (_waiter is null || !_waiter.Circuit.TrippedByService) return;
            Drain(WriteOutcome);
            RunWaiter w = _waiter;
            StopForService(w.Circuit,
                $"Of {w.Added} run(s): {w.Succeeded} succeeded and {w.Failed} failed (written), {w.TimedOut} timed out, {w.StatusUnknown} with a status that could not be read (each its own error), "
                + $"{w.NotFollowed} not followed to the end (their status is unknown); runs after these were not read. "
                + "The runs themselves are not affected: follow them again with Wait-NenRun once what stopped it is fixed.",
                null);
        }

        /// <summary>Before the error that stops the command: no new query leaves; the runs that finish meanwhile are written first.</summary>
        protected override void StopAtError()
        {
            if (_waiter is null) return;
            _waiter.Stop();
            Drain(outcome =>
            {
                switch (outcome.Kind)
                {
                    case WaitOutcomeKind.Completed: WriteOutcome(outcome); break;
                    case WaitOutcomeKind.Stopped: break; // counted by the waiter, summed up in the error that stops the command
                    default: WriteWarning(ErrorRecords.From(outcome.Error!, outcome.Tag ?? outcome.MessageId).Exception.Message); break; // names its row, as its error would
                }
            });
        }

        private void WriteOutcome(WaitOutcome outcome)
        {
            FlushLog();
            switch (outcome.Kind)
            {
                case WaitOutcomeKind.Completed:
                    WriteOutput(new RunStatus(outcome.Status!, timedOut: false, outcome.Tag));
                    if (Any.IsPresent)
                    {
                        _stopAfterFirst = true;
                        CompleteProgress(2, "Wait-NenRun");
                        // Stop following the others; -Any means "the first one is enough".
                        CancelBackgroundWork();
                    }
                    break;
                case WaitOutcomeKind.TimedOut:
                    if (outcome.Status != null) WriteOutput(new RunStatus(outcome.Status, timedOut: true, outcome.Tag));
                    WriteItemError(ErrorRecords.From(outcome.Error!, outcome.Tag ?? outcome.MessageId));
                    break;
                case WaitOutcomeKind.Stopped:
                    break; // counted by the waiter, for the one error that ends the wait
                default:
                    WriteItemError(ErrorRecords.From(outcome.Error!, outcome.Tag ?? outcome.MessageId));
                    break;
            }
        }

        private void ShowProgress()
        {
            if (_waiter is null || !ProgressDue()) return;
            int total = _waiter.Added;
            int done = _waiter.Completed + _waiter.TimedOut + _waiter.StatusUnknown + _waiter.NotFollowed;
            WriteProgress(new ProgressRecord(2, "Wait-NenRun", $"{done} of {total} done: {_waiter.Succeeded} succeeded, {_waiter.Failed} failed, {_waiter.TimedOut + _waiter.StatusUnknown} unknown")
            {
                PercentComplete = total == 0 ? 0 : Math.Min(100, done * 100 / total),
            });
        }

        protected override Task? InFlight => _waiter?.WhenIdleAsync();

        protected override void ReleaseResources() => _waiter?.Dispose();
    }
}
