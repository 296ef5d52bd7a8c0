using System;
using System.Collections.Generic;
using System.Text;
using NenAi.Core.Http;
using NenAi.Core.Models;

namespace NenAi.Core.Rows
{
    /// <summary>
    /// What Start-NenRun -WhatIf says about a row it would send: the workflow and the names of its parameters (never
    /// their values), and, for -WhatIf -Verbose, the JSON body itself with every secure value masked.
    /// </summary>
    public static class RunPreview
    {
        /// <summary>Names listed before the rest are only counted (a row of 300 columns stays one readable line).</summary>
        public const int NamesShown = 25;

        /// <summary>"Workflow {id} with 2 parameter(s) (CUSTOMER_NAME, AMOUNT) and 1 secure parameter(s) (password), row 3".</summary>
        public static string Describe(RunRequest request, string label)
        {
            var names = new List<string>(request.Parameters.Count);
            foreach (var p in request.Parameters) names.Add(p.Key);
            var secure = new List<string>(request.SecureParameters.Count);
            foreach (var p in request.SecureParameters) secure.Add(p.Key);
            return $"Workflow {request.WorkflowId} with {names.Count} parameter(s){Names(names)}"
                + (secure.Count > 0 ? $" and {secure.Count} secure parameter(s){Names(secure)}" : string.Empty)
                + (request.WebhookCallback != null ? ", webhook " + Logging.Redactor.Url(request.WebhookCallback) : string.Empty)
                + $", {label}";
        }

        /// <summary>
        /// The body the row would send, with secure values masked, as one line of ASCII JSON (other characters as \u
        /// escapes, which is the same JSON), so a log in any code page shows it as it is.
        /// </summary>
        public static string Body(RunRequest request)
        {
            using ZeroingBufferWriter body = RunRequestSerializer.SerializeMasked(request);
            string json = Encoding.UTF8.GetString(body.Buffer, 0, body.WrittenCount);
            var ascii = new StringBuilder(json.Length + 16);
            foreach (char c in json)
            {
                if (c < 0x80) ascii.Append(c);
                else ascii.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            }
            return ascii.ToString();
        }

        private static string Names(List<string> names)
        {
            if (names.Count == 0) return string.Empty;
            var shown = new List<string>();
            for (int i = 0; i < names.Count && i < NamesShown; i++) shown.Add(Printable(names[i]));
            string more = names.Count > NamesShown ? $" and {names.Count - NamesShown} more" : string.Empty;
            return " (" + string.Join(", ", shown) + more + ")";
        }

        /// <summary>A name as one short ASCII token: other characters as \u escapes, control characters as spaces.</summary>
        private static string Printable(string name)
        {
            var sb = new StringBuilder(name.Length);
            foreach (char c in name)
            {
                if (char.IsControl(c)) sb.Append(' ');
                else if (c < 0x80) sb.Append(c);
                else sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            }
            return sb.ToString();
        }
    }
}
