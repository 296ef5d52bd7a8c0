using System;
using System.Collections.Generic;
using System.Management.Automation;

namespace NenAi.Commands
{
    /// <summary>
    /// A cmdlet that takes runs: piped in (Start-NenRun, Get-NenRun or Wait-NenRun output, message ids, rows with a
    /// MessageId column) or by -MessageId. The one binding of -InputObject and -MessageId, and the one reader of them.
    /// </summary>
    public abstract class RunsInputCmdletBase : NenCmdletBase
    {
        protected const string ByInput = "ByInput";
        protected const string ById = "ById";

        /// <summary>The runs, from the pipeline or as an argument. Virtual: Receive-NenWebhook also listens without any.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByInput, ValueFromPipeline = true)]
        [AllowNull] // a $null among the runs is that item's NenInvalidMessageId error, like any other input that is not a run
        public virtual PSObject?[]? InputObject { get; set; } = Array.Empty<PSObject>();

        /// <summary>Message ids of the runs.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ById)]
        [Alias("Id")]
        [ValidateNotNullOrEmpty]
        public string[] MessageId { get; set; } = Array.Empty<string>();

        /// <summary>The runs of this input, each read once: an item that is not a run is its own error, and the rest go on.</summary>
        private protected IEnumerable<RunInput> Runs() =>
            RunInput.ReadEach(ParameterSetName == ById ? MessageId : RunInput.Each(InputObject), WriteItemError);
    }
}
