using System;
using System.Collections.Generic;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Models;

namespace NenAi.Core.Rows
{
    /// <summary>
    /// Everything Start-NenRun decides per input row, in one place xunit can reach: the workflow id check,
    /// row → workflow_params mapping, explicit parameters, the journal key and the Idempotency-Key.
    /// </summary>
    public sealed class RunRequestFactory
    {
        private readonly RowMapper _mapper;
        private readonly IReadOnlyList<KeyValuePair<string, SecretValue>> _secure;
        private readonly Uri? _webhook;
        private readonly string? _keyProperty;
        private readonly bool _keyed;

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
        }

        /// <summary>The batch the rows belong to (the journal's, or a fresh one per command); scopes their Idempotency-Keys.</summary>
        public string BatchId { get; set; } = Guid.NewGuid().ToString("N");

        public static void ValidateWebhook(Uri uri)
        {
            if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
                throw new NenException(NenErrorIds.InvalidWebhookUri, NenErrorCategory.InvalidArgument,
                    $"The webhook callback '{uri.OriginalString}' is not an absolute https:// URL.");
        }

        /// <summary>Builds the request for one row; any problem is a <see cref="NenException"/> naming it.</summary>
        public RunRequest Create(string? workflowId, IEnumerable<KeyValuePair<string, object?>>? row,
            IEnumerable<KeyValuePair<string, object?>>? explicitParameters, object? tag)
        {
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

            var request = new RunRequest(id) { WebhookCallback = _webhook, Tag = tag };
            foreach (var p in parameters) request.Parameters.Add(p);
            foreach (var s in _secure) request.SecureParameters.Add(s);
            if (_keyed)
            {
                request.RowKey = _keyProperty != null ? RowKey.FromColumn(_keyProperty, FindCell(cells, _keyProperty)) : RowKey.Hash(id, parameters);
                request.IdempotencyKey = RowKey.IdempotencyKey(BatchId, id, request.RowKey);
            }
            return request;
        }

        private static object? FindCell(List<KeyValuePair<string, object?>> cells, string column)
        {
            foreach (var c in cells) if (string.Equals(c.Key, column, StringComparison.OrdinalIgnoreCase)) return c.Value;
            throw new NenException(NenErrorIds.MissingColumn, NenErrorCategory.InvalidData, $"The row has no key column '{column}'.");
        }
    }
}
