using System;
using System.Collections.Generic;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Models;

namespace NenAi.Core.Rows
{
    /// <summary>
    /// Everything Start-NenRun decides per input row, in one place xunit can reach: what is not a row (a $null, a run,
    /// a lone value, a run saved to CSV and read back), the workflow id (the command's, else the row's WorkflowId
    /// cell) and its check, row → workflow_params mapping, explicit parameters, values that have no JSON form, the
    /// journal key and the Idempotency-Key.
    /// </summary>
    public sealed class RunRequestFactory
    {
        private readonly RowMapper _mapper;
        private readonly IReadOnlyList<KeyValuePair<string, SecretValue>> _secure;
        private readonly Uri? _webhook;
        private readonly string? _keyProperty;
        private readonly bool _keyed;
        /// <summary>-Property, -ExcludeProperty or -KeyProperty decides about MessageId: such a column is then one like any other.</summary>
        private readonly bool _messageIdChosen;
        private const string MessageIdColumn = "MessageId";
        private const string WorkflowIdColumn = "WorkflowId";

        /// <param name="keyed">Give every row a journal key (a journal is in use, or -KeyProperty was given).</param>
        public RunRequestFactory(RowMapper mapper, IReadOnlyList<KeyValuePair<string, SecretValue>>? secureParameters = null,
            Uri? webhookCallback = null, string? keyProperty = null, bool keyed = false)
        {
            _mapper = mapper;
            _secure = secureParameters ?? Array.Empty<KeyValuePair<string, SecretValue>>();
            _keyProperty = string.IsNullOrWhiteSpace(keyProperty) ? null : keyProperty;
            _keyed = keyed || _keyProperty != null;
            if (webhookCallback != null) ValidateWebhook(webhookCallback);
            _webhook = webhookCallback;
            // -Property sends only the columns it names; -KeyProperty MessageId makes it the row's key (a mail's Message-ID, say).
            _messageIdChosen = mapper.ChoosesColumns || mapper.Excludes(MessageIdColumn) || string.Equals(_keyProperty, MessageIdColumn, StringComparison.OrdinalIgnoreCase);
        }

        /// <summary>The batch the rows belong to (the journal's, or a fresh one per command); scopes their Idempotency-Keys.</summary>
        public string BatchId { get; set; } = Guid.NewGuid().ToString("N");

        public static void ValidateWebhook(Uri uri)
        {
            if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
                throw new NenException(NenErrorIds.InvalidWebhookUri, NenErrorCategory.InvalidArgument,
                    $"The webhook callback '{uri.OriginalString}' is not an absolute https:// URL.");
        }

        /// <summary>Builds the request for one row of cells (null: no row); any problem is a <see cref="NenException"/> naming it.</summary>
        /// <summary>The parameters the row itself gives: those -Parameter did not set.</summary>
        private static List<KeyValuePair<string, object?>> OwnParameters(List<KeyValuePair<string, object?>> parameters, IEnumerable<KeyValuePair<string, object?>>? explicitParameters)
        {
            if (explicitParameters is null) return parameters;
            var given = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var pair in explicitParameters) given.Add(pair.Key);
            return given.Count == 0 ? parameters : parameters.FindAll(p => !given.Contains(p.Key));
        }

        public RunRequest Create(string? workflowId, IEnumerable<KeyValuePair<string, object?>>? row,
            IEnumerable<KeyValuePair<string, object?>>? explicitParameters, object? tag) =>
            Create(workflowId, row is null ? RowInput.None : RowInput.Of(new List<KeyValuePair<string, object?>>(row)), explicitParameters, tag);

        /// <summary>
        /// Builds the request for one pipeline input; any problem is a <see cref="NenException"/> naming it. The command's
        /// workflow id wins; without one, the row's WorkflowId cell routes it (a hashtable's key, as an object's property
        /// would bind). The WorkflowId cell itself is never sent as a parameter.
        /// </summary>
        public RunRequest Create(string? workflowId, RowInput input, IEnumerable<KeyValuePair<string, object?>>? explicitParameters, object? tag, string? label = null)
        {
            Refuse(input);
            IReadOnlyList<KeyValuePair<string, object?>>? row = input.Cells;
            if (row != null && !_messageIdChosen && LooksLikeASavedRun(row))
                throw new NenException(NenErrorIds.InvalidParameterValue, NenErrorCategory.InvalidArgument,
                    "The row has MessageId and Status columns: it looks like a run (Start-NenRun or Wait-NenRun output, or runs saved to CSV and read back), not a row of parameters; it was not sent. "
                    + "To follow runs, pipe them to Wait-NenRun or Get-NenRunResult. To send such rows anyway, choose their columns: -Property names the ones to send, -ExcludeProperty MessageId, Status drops those.");
            if (row != null) RefuseSecureColumns(row);
            RefuseSecureClash(explicitParameters);
            object? routed = null;
            bool hasColumn = row != null && TryFindCell(row, WorkflowIdColumn, out routed);
            if (string.IsNullOrWhiteSpace(workflowId) && !hasColumn) throw new NoWorkflowException();
            if (hasColumn && !string.IsNullOrWhiteSpace(routed?.ToString()))
            {
                string cell = routed!.ToString()!.Trim();
                // A row that names its workflow is routed there; one that names another than -WorkflowId is refused, never
                // sent to the command's workflow in silence (the binder keeps -WorkflowId when it is given explicitly).
                if (string.IsNullOrWhiteSpace(workflowId)) workflowId = cell;
                else if (!string.Equals(cell, workflowId!.Trim(), StringComparison.OrdinalIgnoreCase))
                    throw new NenException(NenErrorIds.InvalidWorkflowId, NenErrorCategory.InvalidArgument,
                        $"The row's WorkflowId column says '{cell}' but -WorkflowId says '{workflowId.Trim()}'; it was not sent. Leave the column empty to use -WorkflowId, or leave out -WorkflowId so each row's column routes it.");
            }
            RunRequestSerializer.ValidateWorkflowId(workflowId);
            string id = workflowId!.Trim();
            List<KeyValuePair<string, object?>> cells = row is null ? new List<KeyValuePair<string, object?>>() : new List<KeyValuePair<string, object?>>(row);
            List<KeyValuePair<string, object?>> parameters = row is null ? new List<KeyValuePair<string, object?>>() : _mapper.Map(cells);
            if (explicitParameters != null)
            {
                foreach (var pair in explicitParameters)
                {
                    int existing = parameters.FindIndex(p => string.Equals(p.Key, pair.Key, StringComparison.OrdinalIgnoreCase));
                    if (existing >= 0) parameters[existing] = pair;
                    else parameters.Add(pair);
                }
            }

            var request = new RunRequest(id) { WebhookCallback = _webhook, Tag = tag, Label = label };
            foreach (var p in parameters) request.Parameters.Add(p);
            foreach (var s in _secure) request.SecureParameters.Add(s);
            if (!_keyed)
            {
                ParameterValues.Check(parameters);
                return request;
            }
            // Written once, canonical (checking every value as it goes): the row hash and the fingerprint of what is sent.
            using (Http.ZeroingBufferWriter canonical = RowKey.Canonical(id, parameters))
            {
                request.RowKey = _keyProperty != null ? RowKey.FromColumn(_keyProperty, FindCell(cells, _keyProperty)) : RowKey.HashOf(canonical);
                request.IdempotencyKey = RowKey.IdempotencyKey(BatchId, id, request.RowKey);
                // The fingerprint is of the row's own values: -Parameter's are the command's, the same for every row, and
                // often of the moment (-Parameter @{ RunDate = Get-Date }), so a re-run after a crash would find every row
                // it had sent "changed". Without -Parameter the canonical form is already that.
                List<KeyValuePair<string, object?>> own = OwnParameters(parameters, explicitParameters);
                if (own.Count == parameters.Count) request.ValuesFingerprint = RowFingerprint.Of(BatchId, canonical, parameters.ConvertAll(p => p.Key));
                else
                    using (Http.ZeroingBufferWriter ownCanonical = RowKey.Canonical(id, own))
                        request.ValuesFingerprint = RowFingerprint.Of(BatchId, ownCanonical, own.ConvertAll(p => p.Key));
            }
            return request;
        }

        /// <summary>
        /// How messages name the input that is row <paramref name="rowNumber"/>: its number, and its key column's value when
        /// -KeyProperty is given and the row has it (also for a row that is refused).
        /// </summary>
        public string Label(int rowNumber, RowInput input)
        {
            object? key = null;
            bool hasKey = _keyProperty != null && input.Cells != null && TryFindCell(input.Cells, _keyProperty, out key);
            return RowLabel.For(rowNumber, hasKey ? _keyProperty : null, key);
        }

        /// <summary>
        /// A -Parameter key that -SecureParameter names too is NenSecureParameterConflict: its plain value would be sent
        /// beside the secret one. Checked once for the command, before any row is read; names only, never a value.
        /// </summary>
        public void RefuseSecureClash(IEnumerable<KeyValuePair<string, object?>>? explicitParameters)
        {
            if (explicitParameters is null) return;
            foreach (var pair in explicitParameters)
            {
                if (SecureName(pair.Key) is string secure)
                    throw new SecureParameterConflictException(secure,
                        $"-Parameter and -SecureParameter both name '{secure}': its plain value would be sent beside the secure one. " +
                        $"Give it once: a secret in -SecureParameter only (leave '{pair.Key}' out of -Parameter). Nothing was sent.");
            }
        }

        /// <summary>
        /// A column of the row sent as a parameter that -SecureParameter names too is NenSecureParameterConflict: the
        /// column's value would go out as plain workflow_params. By the row's shape, not its values (an empty cell too).
        /// </summary>
        private void RefuseSecureColumns(IReadOnlyList<KeyValuePair<string, object?>> row)
        {
            if (_secure.Count == 0) return;
            foreach ((string column, string parameter) in _mapper.Columns(row))
            {
                if (SecureName(parameter) is string secure)
                {
                    string sentAs = string.Equals(column, parameter, StringComparison.Ordinal) ? string.Empty : $" (sent as '{parameter}' by -Property)";
                    throw new SecureParameterConflictException(secure,
                        $"The input has a column '{column}'{sentAs} and -SecureParameter names '{secure}' too: the column's value would be sent as a plain parameter beside the secure one. " +
                        $"Leave the column out (-ExcludeProperty {column}) or send it under another name (-Property), or take '{secure}' out of -SecureParameter.");
                }
            }
        }

        /// <summary>The -SecureParameter name <paramref name="parameter"/> matches, ignoring case (a CSV header's case is anybody's), or null.</summary>
        private string? SecureName(string parameter)
        {
            foreach (var s in _secure)
                if (string.Equals(s.Key, parameter?.Trim(), StringComparison.OrdinalIgnoreCase)) return s.Key;
            return null;
        }

        /// <summary>What is not a row is that input's error, before anything else is read from it.</summary>
        private static void Refuse(RowInput input)
        {
            if (input.IsNull)
                throw new NenException(NenErrorIds.InvalidParameterValue, NenErrorCategory.InvalidArgument,
                    "The input is empty (null), not a row of parameters; nothing was sent for it.");
            if (input.IsRun)
                throw new NenException(NenErrorIds.InvalidParameterValue, NenErrorCategory.InvalidArgument,
                    $"The input is a run ({input.Text}), not a row of parameters; it was not sent. To follow runs, pipe them to Wait-NenRun or Get-NenRunResult.");
            if (input.IsValue)
                throw new NenException(NenErrorIds.InvalidParameterValue, NenErrorCategory.InvalidArgument,
                    $"The input '{input.Text}' is not a row: pipe objects with properties (Import-Csv output, [pscustomobject], hashtables).");
        }

        /// <summary>
        /// True for a row shaped like a run (MessageId and Status columns, as NenAi.Run and NenAi.RunStatus have) when
        /// the command chose its columns in no way that concerns MessageId.
        /// </summary>
        private static bool LooksLikeASavedRun(IReadOnlyList<KeyValuePair<string, object?>> row) =>
            TryFindCell(row, MessageIdColumn, out _) && TryFindCell(row, "Status", out _);

        private static bool TryFindCell(IReadOnlyList<KeyValuePair<string, object?>> cells, string column, out object? value)
        {
            foreach (var c in cells)
            {
                if (string.Equals(c.Key, column, StringComparison.OrdinalIgnoreCase)) { value = c.Value; return true; }
            }
            value = null;
            return false;
        }

        private static object? FindCell(IReadOnlyList<KeyValuePair<string, object?>> cells, string column) =>
            TryFindCell(cells, column, out object? value) ? value
                : throw new MissingColumnException(new[] { column }, $"The row has no key column '{column}' (-KeyProperty).");
    }
}
