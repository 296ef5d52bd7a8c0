using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Text;
using Xunit.Sdk;

namespace NenAi.PowerShell.Tests.Infrastructure
{
    /// <summary>What one script produced: its output, all six streams, and the terminating error if there was one.</summary>
    public sealed class PsResult
    {
        public List<PSObject> Output { get; } = new List<PSObject>();
        /// <summary>Non-terminating errors, in order.</summary>
        public List<ErrorRecord> Errors { get; } = new List<ErrorRecord>();
        /// <summary>The error that ended the script (ThrowTerminatingError, -ErrorAction Stop, a binding failure), if any.</summary>
        public ErrorRecord? Terminating { get; set; }
        /// <summary>True when the script was ended by PowerShell.Stop() (Ctrl+C).</summary>
        public bool Stopped { get; set; }
        public List<WarningRecord> Warning { get; } = new List<WarningRecord>();
        public List<VerboseRecord> Verbose { get; } = new List<VerboseRecord>();
        public List<DebugRecord> Debug { get; } = new List<DebugRecord>();
        public List<InformationRecord> Information { get; } = new List<InformationRecord>();
        public List<ProgressRecord> Progress { get; } = new List<ProgressRecord>();
        public TimeSpan Elapsed { get; set; }

        /// <summary>
        /// The one error that stopped a batch: the terminating error, else the last error when it is about the batch, not
        /// a row or run (Start-NenRun writes its stop as a non-terminating error after every run, issue 25: its target is
        /// the journal path or nothing).
        /// </summary>
        public ErrorRecord? BatchStop => Terminating ?? (Errors.Count > 0 && Errors[^1].TargetObject is null or string ? Errors[^1] : null);

        /// <summary>Every error, the terminating one last.</summary>
        public IEnumerable<ErrorRecord> AllErrors => Terminating is null ? Errors : Errors.Append(Terminating);

        /// <summary>Base objects of the output (PSObject wrappers removed).</summary>
        public IEnumerable<object> BaseOutput => Output.Select(o => o.BaseObject);

        /// <summary>
        /// A property of an object read the way a script reads it: "$obj.InputObject.NAME" is
        /// Prop(obj, "InputObject.NAME"). PSCustomObjects stay wrapped (their properties live on the wrapper).
        /// </summary>
        public static object? Prop(object? item, string path)
        {
            object? current = item;
            foreach (string name in path.Split('.'))
            {
                if (current is null) return null;
                current = PSObject.AsPSObject(current).Properties[name]?.Value;
            }
            return current is PSObject p && !(p.BaseObject is PSCustomObject) ? p.BaseObject : current;
        }

        public List<string?> Strings(string path) => Output.Select(o => Prop(o, path)?.ToString()).ToList();

        /// <summary>Fails the test with every error and warning when the script reported any error.</summary>
        public PsResult AssertClean()
        {
            if (Terminating != null || Errors.Count > 0) throw new XunitException("The script reported errors:\n" + Describe());
            return this;
        }

        public string Describe()
        {
            var sb = new StringBuilder();
            sb.AppendLine($"{Output.Count} output object(s) in {Elapsed.TotalMilliseconds:0} ms{(Stopped ? ", stopped" : string.Empty)}");
            foreach (ErrorRecord e in AllErrors) sb.AppendLine($"  {(e == Terminating ? "TERMINATING" : "error")} {e.FullyQualifiedErrorId} [{e.CategoryInfo.Category}]: {e}");
            foreach (WarningRecord w in Warning) sb.AppendLine("  warning: " + w.Message);
            return sb.ToString();
        }

        /// <summary>
        /// Everything a user could ever see of this run, as text: every output object and its properties
        /// (nested), every record of the six streams, every error's message, details, exception chain and
        /// target. Secret canaries must not appear in it.
        /// </summary>
        public string AllText()
        {
            var sb = new StringBuilder();
            foreach (PSObject o in Output) Render(sb, o, 0);
            foreach (ErrorRecord e in AllErrors) RenderError(sb, e);
            foreach (WarningRecord w in Warning) sb.AppendLine("WARNING: " + w.Message);
            foreach (VerboseRecord v in Verbose) sb.AppendLine("VERBOSE: " + v.Message);
            foreach (DebugRecord d in Debug) sb.AppendLine("DEBUG: " + d.Message);
            foreach (InformationRecord i in Information) { sb.Append("INFO: "); Render(sb, i.MessageData, 1); }
            foreach (ProgressRecord p in Progress) sb.AppendLine($"PROGRESS: {p.Activity} | {p.StatusDescription} | {p.CurrentOperation}");
            return sb.ToString();
        }

        private static void RenderError(StringBuilder sb, ErrorRecord e)
        {
            sb.AppendLine("ERROR: " + e);
            sb.AppendLine("  id: " + e.FullyQualifiedErrorId + " category: " + e.CategoryInfo);
            sb.AppendLine("  details: " + e.ErrorDetails?.Message + " " + e.ErrorDetails?.RecommendedAction);
            sb.AppendLine("  exception: " + e.Exception);
            for (Exception? x = e.Exception; x != null; x = x.InnerException)
            {
                sb.AppendLine("  message: " + x.Message);
                foreach (DictionaryEntry d in x.Data) sb.AppendLine($"  data: {d.Key}={d.Value}");
            }
            sb.Append("  target: ");
            Render(sb, e.TargetObject, 1);
        }

        private static void Render(StringBuilder sb, object? value, int depth)
        {
            if (value is null) { sb.AppendLine("(null)"); return; }
            object item = value is PSObject ps ? ps.BaseObject : value;
            sb.AppendLine(value.ToString());
            if (depth > 3 || item is string || item.GetType().IsPrimitive) return;
            if (item is IEnumerable list && !(item is IDictionary))
            {
                foreach (object? element in list) { sb.Append(' ', depth * 2); Render(sb, element, depth + 1); }
                return;
            }
            foreach (PSPropertyInfo p in PSObject.AsPSObject(value).Properties)
            {
                object? v;
                try { v = p.Value; }
                catch (Exception ex) { v = "<" + ex.GetType().Name + ">"; }
                sb.Append(' ', depth * 2).Append(p.Name).Append(" = ");
                Render(sb, v, depth + 1);
            }
        }
    }
}
