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
        private bool _stopAfterFirst;
        private int _written, _failed, _notFollowed;


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

        protected override void AddOutcomes(BatchSummary summary)
        {
            summary.Add("Runs", _waiter?.Added ?? 0);
            summary.Add("Succeeded", _waiter?.Succeeded ?? 0);
            summary.Add("Failed", _waiter?.Failed ?? 0, problem: true);
            summary.Add("TimedOut", _waiter?.TimedOut ?? 0, problem: true);
            summary.Add("NotFollowed", (_waiter?.NotFollowed ?? 0) + _notFollowed, problem: true);
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

        /// <summary>A service that refuses the key or cannot be reached stops the wait for every run: one error for all, once the runs that finished are written.</summary>
        private void EndIfTheServiceStopped()
        {
            if (_waiter is null || !_waiter.Circuit.TrippedByService) return;
            Drain(WriteOutcome);
            StopForService(_waiter.Circuit,
                $"{_written} run(s) finished and were written, {_notFollowed} were not followed to the end, {_failed} failed; runs after these were not read. "
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
                    case WaitOutcomeKind.Stopped: _notFollowed++; break;
                    default: WriteWarning($"Run {outcome.MessageId}: {outcome.Error!.Message}"); break;
                }
            });
        }

        private void WriteOutcome(WaitOutcome outcome)
        {
            FlushLog();
            switch (outcome.Kind)
            {
                case WaitOutcomeKind.Completed:
                    _written++;
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
                    _failed++;
                    if (outcome.Status != null) WriteOutput(new RunStatus(outcome.Status, timedOut: true, outcome.Tag));
                    WriteItemError(ErrorRecords.From(outcome.Error!, outcome.Tag ?? outcome.MessageId));
                    break;
                case WaitOutcomeKind.Stopped:
                    _notFollowed++; // counted for the one error that ends the wait
                    break;
                default:
                    _failed++;
                    WriteItemError(ErrorRecords.From(outcome.Error!, outcome.Tag ?? outcome.MessageId));
                    break;
            }
        }

        private void ShowProgress()
        {
            if (_waiter is null || !ProgressDue()) return;
            int total = _waiter.Added;
            int done = _waiter.Completed + _waiter.TimedOut;
            WriteProgress(new ProgressRecord(2, "Wait-NenRun", $"{done} of {total} finished: {_waiter.Succeeded} succeeded, {_waiter.Failed} failed")
            {
                PercentComplete = total == 0 ? 0 : Math.Min(100, done * 100 / total),
            });
        }

        protected override Task? InFlight => _waiter?.WhenIdleAsync();

        protected override void ReleaseResources() => _waiter?.Dispose();
    }
}
