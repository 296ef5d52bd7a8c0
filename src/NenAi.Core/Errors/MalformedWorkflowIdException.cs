using System;

namespace NenAi.Core.Errors
{
    /// <summary>
    /// A workflow id that is not one (NenInvalidWorkflowId): not a UUID in the 8-4-4-4-12 form every Nen workflow id
    /// has. Every row naming it would be refused the same way, so it is reported once per distinct id.
    /// </summary>
    public sealed class MalformedWorkflowIdException : NenException
    {
        public MalformedWorkflowIdException(string workflowId, string shown)
            : base(NenErrorIds.InvalidWorkflowId, NenErrorCategory.InvalidArgument, Describe(workflowId, shown))
        {
            WorkflowId = workflowId;
        }

        private MalformedWorkflowIdException(string workflowId, string message, MalformedWorkflowIdException inner)
            : base(NenErrorIds.InvalidWorkflowId, NenErrorCategory.InvalidArgument, message, inner)
        {
            WorkflowId = workflowId;
        }

        /// <summary>The id as given (trimmed).</summary>
        public string WorkflowId { get; }

        protected override NenException Copy(string message) => new MalformedWorkflowIdException(WorkflowId, message, this);

        private static string Describe(string workflowId, string shown)
        {
            string message = $"The workflow id '{shown}' is not a workflow id: Nen workflow ids are UUIDs written as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (32 hex digits in groups of 8-4-4-4-12; a workflow's name is not its id).";
            // Another notation of a UUID ({...}, no hyphens): say how to write it, rather than send a form the service may not take.
            return Guid.TryParse(workflowId, out Guid guid) ? message + $" Write it as '{guid:D}'." : message;
        }
    }
}
