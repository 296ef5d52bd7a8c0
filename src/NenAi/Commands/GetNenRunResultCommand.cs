using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using NenAi.Core.Downloads;
using NenAi.Core.Errors;
using CoreStatus = NenAi.Core.Models.RunStatus;

namespace NenAi.Commands
{
    /// <summary>
    /// Downloads the result files of finished runs to Destination\&lt;messageId&gt;\ and writes one FileInfo
    /// (with a MessageId property) per file.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "NenRunResult", DefaultParameterSetName = ByInput, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(FileInfo))]
    public sealed class GetNenRunResultCommand : NenCmdletBase
    {
        private const string ByInput = "ByInput";
        private const string ById = "ById";
        private ResultDownloader? _downloader;
        private string _destination = string.Empty;
        private int _runs, _files, _failed;

        /// <summary>
        /// Runs whose results to get: Wait-NenRun output (its links are used directly, and refreshed when
        /// expired), message ids, Start-NenRun/Get-NenRun output, or rows with a MessageId column.
        /// </summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByInput, ValueFromPipeline = true)]
        [AllowNull] // a $null among the runs is that item's NenInvalidMessageId error, like any other input that is not a run
        public PSObject?[]? InputObject { get; set; } = Array.Empty<PSObject>();

        /// <summary>Message ids of the runs whose results to get.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ById)]
        [Alias("Id")]
        [ValidateNotNullOrEmpty]
        public string[] MessageId { get; set; } = Array.Empty<string>();

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

        /// <summary>Seconds per HTTP request.</summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public int TimeoutSec { get; set; } = 300;

        protected override int RequestTimeoutSeconds => TimeoutSec;

        protected override void BeginProcessing()
        {
            EnsureConfigured();
            string destination = SessionState.Path.CurrentFileSystemLocation.ProviderPath;
            try
            {
                if (Destination != null) destination = FileSystemPath(Destination, nameof(Destination));
            }
            catch (NenException ex)
            {
                ThrowTerminatingError(ErrorRecords.From(ex, Destination));
            }
            _destination = destination;
            _downloader = new ResultDownloader(Client, new ResultDownloadOptions(destination) { Force = Force.IsPresent, Expand = Expand.IsPresent }, Log);
        }

        protected override void ProcessRecord()
        {
            IEnumerable<object> items = ParameterSetName == ById ? MessageId : RunInput.Each(InputObject);
            foreach (RunInput run in RunInput.ReadEach(items, this))
            {
                // It writes files: -WhatIf shows where, and sends nothing.
                if (!ShouldProcess($"run {run.MessageId} → {System.IO.Path.Combine(_destination, run.MessageId)}", "Save result files")) continue;
                // A status in hand (Wait-NenRun output) is used as is; a bare id is looked up first.
                Download(run.Status?.Core ?? new CoreStatus { MessageId = run.MessageId, Status = string.Empty }, run.Target);
            }
        }

        protected override void EndProcessing() => CompleteProgress(3, "Get-NenRunResult");

        private void Download(CoreStatus status, object target)
        {
            _runs++;
            ShowProgress(status.MessageId);
            try
            {
                RunDownloadResult result = Await(_downloader!.DownloadAsync(status, Token));
                foreach (DownloadedFile file in result.Files)
                {
                    _files++;
                    var output = PSObject.AsPSObject(new FileInfo(file.Path));
                    output.Properties.Add(new PSNoteProperty("MessageId", file.MessageId));
                    output.Properties.Add(new PSNoteProperty("Skipped", file.Skipped));
                    output.Properties.Add(new PSNoteProperty("Expanded", file.Expanded));
                    output.TypeNames.Insert(0, "NenAi.ResultFile");
                    WriteObject(output);
                }
                foreach (NenException error in result.Errors)
                {
                    _failed++;
                    WriteError(ErrorRecords.From(error, target));
                }
            }
            catch (NenException ex)
            {
                _failed++;
                WriteError(ErrorRecords.From(ex, target));
            }
        }

        private void ShowProgress(string messageId)
        {
            if (!ProgressDue()) return;
            WriteProgress(new ProgressRecord(3, "Get-NenRunResult", $"{_runs} run(s): {_files} file(s) saved, {_failed} failed") { CurrentOperation = messageId });
        }
    }
}
