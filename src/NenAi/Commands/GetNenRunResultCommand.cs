using System;
using System.Management.Automation;
using System.Threading.Tasks;
using NenAi.Core.Downloads;
using NenAi.Core.Errors;
using NenAi.Core.Models;

namespace NenAi.Commands
{
    /// <summary>
    /// Downloads the result files of finished runs to Destination\&lt;messageId&gt;\ and writes one NenAi.ResultFile
    /// per file: its run, row key, name and full path, ready for Export-Csv and for Get-Item/Copy-Item/Remove-Item.
    /// Runs download at once, -ThrottleLimit requests in flight across all of them, while the input keeps streaming;
    /// each run's files are written together when its last one is done (in the order the run lists them), runs in the
    /// order they finish.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "NenRunResult", DefaultParameterSetName = ByInput, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(ResultFile))]
    public sealed class GetNenRunResultCommand : RunsInputCmdletBase
    {
        private ResultDownloadQueue? _queue;
        private string _destination = string.Empty;
        private int _runs, _files, _failed, _notDownloaded;


        /// <summary>Folder under which each run gets a subfolder named by its message id (default: the current folder).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Destination { get; set; }

        /// <summary>Download again even when a file is already complete.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Unpack .zip results (entries escaping the folder are refused).</summary>
        [Parameter]
        public SwitchParameter Expand { get; set; }

        /// <summary>Requests in flight at once: file downloads (of one run or of several) and the status lookups they need.</summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 8;

        /// <summary>Deprecated: the old name of -RequestTimeoutSec, still honoured for one release (with a warning).</summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public int TimeoutSec
        {
            get => DeprecatedTimeoutSec ?? RequestTimeoutSec;
            set => DeprecatedTimeoutSec = value;
        }

        /// <summary>Downloads are long: five minutes per request, and between two pieces of a body.</summary>
        protected override int DefaultRequestTimeoutSec => 300;

        protected override void BeginProcessing()
        {
            // A preview (-WhatIf) sends nothing, so it needs no key: the client is made for the first real download.
            if (!IsPreview()) EnsureConfigured();
            string destination = SessionState.Path.CurrentFileSystemLocation.ProviderPath;
            try
            {
                if (Destination != null) destination = FileSystemPath(Destination, nameof(Destination));
                // Every run would fail the same way: one error now, not one per run.
                if (Core.Files.FolderCheck.FileInTheWay(destination) is string file)
                    throw new NenException(NenErrorIds.InvalidPath, NenErrorCategory.InvalidArgument,
                        $"-Destination '{destination}' cannot be a folder: '{file}' is a file. Give a folder (it is created if it does not exist).");
            }
            catch (NenException ex)
            {
                EndWithError(ErrorRecords.From(ex, Destination));
            }
            _destination = destination;
        }

        private ResultDownloadQueue Queue()
        {
            if (_queue != null) return _queue;
            EnsureConfigured();
            var downloader = new ResultDownloader(Client, new ResultDownloadOptions(_destination)
            {
                Force = Force.IsPresent,
                Expand = Expand.IsPresent,
                StopAtFirstError = ErrorsStopTheCommand,
                MaxConcurrency = ThrottleLimit,
            }, Log);
            return _queue = new ResultDownloadQueue(downloader);
        }

        protected override void ProcessRecord()
        {
            foreach (RunInput run in Runs())
            {
                // It writes files: -WhatIf shows where, and sends nothing. Joined as text: .NET Framework's Path.Combine
                // throws ArgumentException for a '|' or '"' in the id, before the download refuses that run alone.
                string folder = _destination.TrimEnd(System.IO.Path.DirectorySeparatorChar, System.IO.Path.AltDirectorySeparatorChar) + System.IO.Path.DirectorySeparatorChar + run.MessageId;
                if (!ShouldProcess($"run {run.MessageId} -> {folder}", "Save result files")) continue;
                ResultDownloadQueue queue = Queue();
                // Flat memory: a run waits for a place while the runs ahead of it are written as they finish.
                while (!queue.HasFreeSlot) WriteRun(Await(queue.TakeAsync(Token))!);
                EndIfTheServiceStopped();
                _runs++;
                // A status in hand (Wait-NenRun output) is used as is; a bare id is looked up first.
                Await(queue.AddAsync(run.Status?.Core ?? new RunSnapshot { MessageId = run.MessageId, Status = string.Empty }, run.Target, Token));
                while (queue.TryTake(out RunDownloadOutcome? done)) WriteRun(done!);
                EndIfTheServiceStopped();
                ShowProgress(run.MessageId);
            }
        }

        protected override void EndProcessing()
        {
            if (_queue != null)
            {
                Drain(WriteRun);
                EndIfTheServiceStopped();
            }
            CompleteProgress(3, "Get-NenRunResult");
            PublishSummary();
        }

        /// <summary>
        /// Runs, the files saved (skipped and unpacked ones included), Failed (a file or run with a definite error: the run
        /// failed, a file the storage does not have, a disk that is full, ...) and NotDownloaded (a file left for a later
        /// call: its retries ran out, or the downloads stopped first; a run none of whose files was started, its file list
        /// never read or its folder not made, counts as one).
        /// </summary>
        protected override void AddOutcomes(BatchSummary summary)
        {
            summary.Add("Runs", _runs);
            summary.Add("Files", _files);
            summary.Add("Failed", _failed, problem: true);
            summary.Add("NotDownloaded", _notDownloaded, problem: true);
        }

        private void Drain(Action<RunDownloadOutcome> write)
        {
            RunDownloadOutcome? outcome;
            while ((outcome = Await(_queue!.TakeAsync(Token))) != null)
            {
                write(outcome);
                ShowProgress(outcome.MessageId);
            }
        }

        /// <summary>One finished run: its files, then its errors (each counted as what is known of it).</summary>
        private void WriteRun(RunDownloadOutcome outcome) => WriteRun(outcome, WriteItemError);

        private void WriteRun(RunDownloadOutcome outcome, Action<ErrorRecord> writeError)
        {
            FlushLog();
            object target = outcome.Tag ?? outcome.MessageId;
            RunDownloadResult? result = outcome.Result;
            if (result is null)
            {
                NenException error = outcome.Error!;
                if (Count(error)) writeError(ErrorRecords.From(error, target));
                return;
            }
            string? workflowId = result.Run?.WorkflowId ?? outcome.Given.WorkflowId;
            string? rowKey = RunInput.RowKeyOf(outcome.Tag);
            foreach (DownloadedFile file in result.Files)
            {
                _files++;
                WriteOutput(new ResultFile(file, workflowId, rowKey, result.RunSucceeded));
            }
            _notDownloaded += result.NotDownloaded.Count; // the downloads stopped before them: summed up in the one error
            foreach (NenException error in result.Errors)
            {
                if (Count(error)) writeError(ErrorRecords.From(error, target));
            }
        }

        /// <summary>Counts an error under what is known; false when it is the reason the downloads stopped (its one error says it).</summary>
        private bool Count(NenException error)
        {
            ResultDownloader downloader = _queue!.Downloader;
            bool stoppedFirst = error is NenNotSentException || downloader.StoppedBy(error);
            // Failed only for what is known to have failed: the run (as the service said), or a file that cannot be saved.
            // A status that could not be read (a portal's page, a 418, any error of the lookup) is not downloaded, as
            // Wait-NenRun and Get-NenRun count it StatusUnknown.
            bool notYet = stoppedFirst || error.IsTransient || error.ErrorId == NenErrorIds.RunNotComplete || error.ErrorId == NenErrorIds.RunNotFound
                || downloader.StatusNotRead(error);
            if (notYet) _notDownloaded++;
            else _failed++;
            return !stoppedFirst;
        }

        /// <summary>
        /// A refused key, or a service or storage that fails, stalls or cannot be reached, stops every later lookup and
        /// download: one error for all the runs, not one each, once the runs in flight have ended and been written. So
        /// does a destination no run's files can be written to (read-only, access denied, too long, full), with the
        /// destination as its target, as when -Destination is a file.
        /// </summary>
        private void EndIfTheServiceStopped()
        {
            ResultDownloader? downloader = _queue?.Downloader;
            if (downloader?.StoppedBecause is null) return;
            Drain(WriteRun);
            NenException reason = downloader.StoppedBecause!;
            string whatBecame = $"Of {_runs} run(s): {_files} file(s) saved, {_failed} failed, {_notDownloaded} not downloaded (a run none of whose files was started counts as one); runs after these were not read. "
                + "Run the same command again once what stopped it is fixed: complete files are skipped and partial ones resumed.";
            if (downloader.Circuit.TrippedByService) StopForService(downloader.Circuit, whatBecame, null);
            else EndWithError(ErrorRecords.From(reason.WithMessage(reason.Message + " " + whatBecame), Destination ?? _destination));
        }

        /// <summary>Before the error that stops the command: no new download starts; the ones in flight finish and their files are written first.</summary>
        protected override void StopAtError()
        {
            if (_queue is null) return;
            _queue.Downloader.Stop();
            Drain(outcome => WriteRun(outcome, record => WriteWarning(record.Exception.Message)));
        }

        private void ShowProgress(string messageId)
        {
            if (!ProgressDue()) return;
            WriteProgress(new ProgressRecord(3, "Get-NenRunResult", $"{_runs} run(s): {_files} file(s) saved, {_failed} failed, {_notDownloaded} not downloaded") { CurrentOperation = messageId });
        }

        protected override Task? InFlight => _queue?.WhenIdleAsync();

        protected override void ReleaseResources() => _queue?.Dispose();
    }
}
