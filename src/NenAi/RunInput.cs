using System.Collections;
using System.Management.Automation;
using NenAi.Core.Errors;
using NenAi.Core.Models;

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

        /// <summary>The items of an -InputObject that may be $null itself (then one null item, refused like any other).</summary>
        public static System.Collections.Generic.IEnumerable<object?> Each(PSObject?[]? inputs) => inputs ?? new object?[] { null };

        /// <summary>
        /// The runs among <paramref name="items"/>, read as they are enumerated; an item that is not one is written at
        /// once as its NenInvalidMessageId error (the row as target), through the command's <paramref name="writeError"/>
        /// (so -ErrorAction Stop stops at it), and the others go on.
        /// </summary>
        public static System.Collections.Generic.IEnumerable<RunInput> ReadEach(System.Collections.Generic.IEnumerable<object?> items, System.Action<ErrorRecord> writeError)
        {
            foreach (object? item in items)
            {
                RunInput run;
                try
                {
                    run = Read(item);
                }
                catch (NenException ex)
                {
                    writeError(ErrorRecords.From(ex, item));
                    continue;
                }
                yield return run;
            }
        }

        public static RunInput Read(object? input)
        {
            object? value = input is PSObject ps ? ps.BaseObject : input;
            switch (value)
            {
                case RunStatus status: return new RunInput(status.MessageId, status, input!);
                case Run run: return Checked(run.MessageId, input!);
                case string text: return Checked(text, input!);
                case null: throw NotARun("The input is empty (null).");
                case System.Guid guid: return Checked(guid.ToString(), input!);
                case IDictionary map:
                    return Checked(IdText(map["MessageId"] ?? map["message_id"]) ?? throw NotARun(Describe(value)), input!);
            }
            PSObject wrapper = PSObject.AsPSObject(input!);
            PSPropertyInfo? property = wrapper.Properties["MessageId"] ?? wrapper.Properties["message_id"];
            object? id;
            try
            {
                id = property?.Value;
            }
            catch (System.Exception ex) when (ex is GetValueException || ex is ExtendedTypeSystemException)
            {
                throw NotARun($"The input's {property!.Name} property could not be read ({ex.Message}).");
            }
            return Checked(IdText(id) ?? throw NotARun(Describe(value)), input!);
        }

        /// <summary>
        /// The readable key of the row behind a run that came in as <paramref name="input"/> (its -KeyProperty value, or
        /// "row 3"): a NenAi.Run's, a NenAi.RunStatus's, or a RowKey column of runs or result files saved to CSV and
        /// read back (an older export's "col:2001" read as "2001"); else null.
        /// </summary>
        public static string? RowKeyOf(object? input)
        {
            object? value = input is PSObject ps ? ps.BaseObject : input;
            switch (value)
            {
                case null: return null;
                case Run run: return run.RowKey;
                case RunStatus status: return status.RowKey;
                case ResultFile file: return file.RowKey;
                case string _: return null;
                case IDictionary map: return Core.Rows.RowKey.ValueOf(map["RowKey"] as string);
            }
            try
            {
                return Core.Rows.RowKey.ValueOf(PSObject.AsPSObject(input!).Properties["RowKey"]?.Value as string);
            }
            catch (System.Exception ex) when (ex is GetValueException || ex is ExtendedTypeSystemException)
            {
                return null;
            }
        }

        /// <summary>
        /// How messages name the row behind a run that came in as <paramref name="input"/>: the input row of a NenAi.Run
        /// (through a NenAi.RunStatus too), else its key when it has one; null for anything else (a message id, a CSV row).
        /// </summary>
        public static string? LabelOf(object? input)
        {
            object? value = input is PSObject ps ? ps.BaseObject : input;
            return value switch
            {
                Run run => run.Label ?? Core.Rows.RowLabel.ForKey(run.RowKey),
                RunStatus status => LabelOf(status.InputObject) ?? Core.Rows.RowLabel.ForKey(status.RowKey),
                _ => null,
            };
        }

        /// <summary>A message id as a string: a string (wrapped or not) or a GUID; anything else is none.</summary>
        private static string? IdText(object? id)
        {
            object? value = id is PSObject p ? p.BaseObject : id;
            return value switch
            {
                string s => s,
                System.Guid g => g.ToString(),
                _ => null,
            };
        }

        private static RunInput Checked(string messageId, object target)
        {
            string checkedId;
            try
            {
                checkedId = MessageIds.Check(messageId);
            }
            catch (NenException ex)
            {
                throw NotARun(ex.Message);
            }
            return new RunInput(checkedId, null, target);
        }

        private static string Describe(object value) =>
            $"The input ({value.GetType().FullName}) is not a run: it has no MessageId property.";

        private static NenException NotARun(string problem) =>
            new NenException(NenErrorIds.InvalidMessageId, NenErrorCategory.InvalidArgument,
                problem + " Pipe message ids, the output of Start-NenRun, Wait-NenRun or Get-NenRun, or rows with a MessageId column.");
    }
}
