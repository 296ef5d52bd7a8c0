using System;
using System.Management.Automation;
using NenAi.Core.Downloads;
using NenAi.Core.Errors;
using NenAi.Core.Models;

namespace NenAi.Commands
{
    /// <summary>
    /// Downloads the result files of finished runs to Destination\&lt;messageId&gt;\ and writes one NenAi.ResultFile
    /// per file: its run, row key, name and full path, ready for Export-Csv and for Get-Item/Copy-Item/Remove-Item.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "NenRunResult", DefaultParameterSetName = ByInput, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(ResultFile))]
    public sealed class GetNenRunResultCommand : RunsInputCmdletBase
    {
        private ResultDownloader? _downloader;
        private string _destination = string.Empty;
        private int _runs, _files, _failed;


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

        private ResultDownloader Downloader()
        {
            if (_downloader != null) return _downloader;
            EnsureConfigured();
            return _downloader = new ResultDownloader(Client, new ResultDownloadOptions(_destination)
            {
                Force = Force.IsPresent,
                Expand = Expand.IsPresent,
                StopAtFirstError = ErrorsStopTheCommand,
            }, Log);
        }

        protected override void ProcessRecord()
        {
            foreach (RunInput run in Runs())
            {
                // It writes files: -WhatIf shows where, and sends nothing. Joined as text: .NET Framework's Path.Combine
                // throws ArgumentException for a '|' or '"' in the id, before the download refuses that run alone.
                string folder = _destination.TrimEnd(System.IO.Path.DirectorySeparatorChar, System.IO.Path.AltDirectorySeparatorChar) + System.IO.Path.DirectorySeparatorChar + run.MessageId;
                if (!ShouldProcess($"run {run.MessageId} -> {folder}", "Save result files")) continue;
                // A status in hand (Wait-NenRun output) is used as is; a bare id is looked up first.
                Download(run.Status?.Core ?? new RunSnapshot { MessageId = run.MessageId, Status = string.Empty }, run.Target);
            }
        }

        protected override void EndProcessing()
        {
            CompleteProgress(3, "Get-NenRunResult");
            PublishSummary();
        }

        protected override void AddOutcomes(BatchSummary summary)
        {
            summary.Add("Runs", _runs);
            summary.Add("Files", _files);
            summary.Add("Failed", _failed, problem: true);
        }

        private void Download(RunSnapshot status, object target)
        {
            ResultDownloader downloader = Downloader();
            _runs++;
            ShowProgress(status.MessageId);
            RunDownloadResult result;
            try
            {
                result = Await(downloader.DownloadAsync(status, Token));
            }
            catch (NenException ex)
            {
                EndIfTheServiceStopped(downloader, target);
                _failed++;
                WriteItemError(ErrorRecords.From(ex, target));
                return;
            }
            string? workflowId = result.Run?.WorkflowId ?? status.WorkflowId;
            string? rowKey = RunInput.RowKeyOf(target);
            foreach (DownloadedFile file in result.Files)
            {
                _files++;
                WriteOutput(new ResultFile(file, workflowId, rowKey, result.RunSucceeded));
            }
            EndIfTheServiceStopped(downloader, target); // fresh links asked for mid-run may have been refused
            foreach (NenException error in result.Errors)
            {
                _failed++;
                WriteItemError(ErrorRecords.From(error, target));
            }
        }

        /// <summary>A refused key, or a service or storage that cannot be reached, stops every later lookup and download: one error for all the runs, not one each.</summary>
        private void EndIfTheServiceStopped(ResultDownloader downloader, object target)
        {
            if (!downloader.Circuit.TrippedByService) return;
            StopForService(downloader.Circuit,
                $"{_runs - 1} run(s) before this one were handled ({_files} file(s) saved, {_failed} failed); this run's other files and the runs after it were not. "
                + "Run the same command again once what stopped it is fixed: complete files are skipped.", target);
        }

        private void ShowProgress(string messageId)
        {
            if (!ProgressDue()) return;
            WriteProgress(new ProgressRecord(3, "Get-NenRunResult", $"{_runs} run(s): {_files} file(s) saved, {_failed} failed") { CurrentOperation = messageId });
        }
    }
}
