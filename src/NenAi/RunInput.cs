using System.Collections;
using System.Management.Automation;
using NenAi.Core.Errors;

namespace NenAi
{
    /// <summary>
    /// One run as Wait-NenRun, Get-NenRunResult and Get-NenRun take it from the pipeline: a message id string,
    /// a NenAi.Run or NenAi.RunStatus, or any object (a CSV row of runs saved earlier, a parsed webhook) with a
    /// MessageId or message_id property. Anything else is refused with an error naming the object, before any
    /// request is made.
    /// </summary>
    internal sealed class RunInput
    {
        private RunInput(string messageId, RunStatus? status, object target)
        {
            MessageId = messageId;
            Status = status;
            Target = target;
        }

        public string MessageId { get; }
        /// <summary>The status the input already carries (Wait-NenRun output, a verified webhook), if any.</summary>
        public RunStatus? Status { get; }
        /// <summary>The object as it came in, for error records.</summary>
        public object Target { get; }

        public static RunInput Read(object? input)
        {
            object? value = input is PSObject ps ? ps.BaseObject : input;
            switch (value)
            {
                case RunStatus status: return new RunInput(status.MessageId, status, input!);
                case Run run: return Checked(run.MessageId, input!);
                case string text: return Checked(text, input!);
                case null: throw NotARun("The input is empty (null).");
                case IDictionary map:
                    return Checked(map["MessageId"] as string ?? map["message_id"] as string ?? throw NotARun(Describe(value)), input!);
            }
            PSObject wrapper = PSObject.AsPSObject(input!);
            PSPropertyInfo? property = wrapper.Properties["MessageId"] ?? wrapper.Properties["message_id"];
            object? id = property?.Value is PSObject p ? p.BaseObject : property?.Value;
            if (id is string s) return Checked(s, input!);
            throw NotARun(Describe(value));
        }

        private static RunInput Checked(string messageId, object target)
        {
            string trimmed = messageId.Trim();
            if (trimmed.Length == 0) throw NotARun("The message id is empty.");
            return new RunInput(trimmed, null, target);
        }

        private static string Describe(object value) =>
            $"The input ({value.GetType().FullName}) is not a run: it has no MessageId property.";

        private static NenException NotARun(string problem) =>
            new NenException(NenErrorIds.InvalidMessageId, NenErrorCategory.InvalidArgument,
                problem + " Pipe message ids, the output of Start-NenRun, Wait-NenRun or Get-NenRun, or rows with a MessageId column.");
    }
}
