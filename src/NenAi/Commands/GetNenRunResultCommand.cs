using System;
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
    [Cmdlet(VerbsCommon.Get, "NenRunResult", DefaultParameterSetName = ById)]
    [OutputType(typeof(FileInfo))]
    public sealed class GetNenRunResultCommand : NenCmdletBase
    {
        private const string ById = "ById";
        private const string ByStatus = "ByStatus";
        private ResultDownloader? _downloader;

        /// <summary>Runs whose results to get: message ids or objects with a MessageId property.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ById, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("Id")]
        [ValidateNotNullOrEmpty]
        public string[] MessageId { get; set; } = Array.Empty<string>();

        /// <summary>Statuses from Wait-NenRun: their links are used directly (and refreshed when expired).</summary>
        [Parameter(Mandatory = true, ParameterSetName = ByStatus, ValueFromPipeline = true)]
        public RunStatus[] InputObject { get; set; } = Array.Empty<RunStatus>();

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
            string destination = Destination is null ? SessionState.Path.CurrentFileSystemLocation.ProviderPath : GetUnresolvedProviderPathFromPSPath(Destination);
            _downloader = new ResultDownloader(Client, new ResultDownloadOptions(destination) { Force = Force.IsPresent, Expand = Expand.IsPresent }, Log);
        }

        protected override void ProcessRecord()
        {
            if (ParameterSetName == ByStatus)
            {
                foreach (RunStatus status in InputObject) Download(status.Core, status);
                return;
            }
            foreach (string id in MessageId) Download(new CoreStatus { MessageId = id.Trim(), Status = string.Empty }, id);
        }

        private void Download(CoreStatus status, object target)
        {
            try
            {
                RunDownloadResult result = Await(_downloader!.DownloadAsync(status, Token));
                foreach (DownloadedFile file in result.Files)
                {
                    var output = PSObject.AsPSObject(new FileInfo(file.Path));
                    output.Properties.Add(new PSNoteProperty("MessageId", file.MessageId));
                    output.Properties.Add(new PSNoteProperty("Skipped", file.Skipped));
                    output.Properties.Add(new PSNoteProperty("Expanded", file.Expanded));
                    output.TypeNames.Insert(0, "NenAi.ResultFile");
                    WriteObject(output);
                }
                foreach (NenException error in result.Errors) WriteError(ErrorRecords.From(error, target));
            }
            catch (NenException ex)
            {
                WriteError(ErrorRecords.From(ex, target));
            }
        }
    }
}
