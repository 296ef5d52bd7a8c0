#Requires -Version 7.4
# Pester 5 suite: every cmdlet against the emulator, started as a real process in BeforeAll.
# Run with ./build.ps1 -Task Test (after ./build.ps1 -Task Build).

BeforeAll {
    $script:root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $script:root 'tools/EmulatorProcess.psm1') -Force
    Get-Module NenAi | Remove-Module -Force   # one NenAi in the session, whichever file ran before
    Import-Module (Join-Path $script:root 'out/NenAi/NenAi.psd1') -Force

    $script:emulator = Start-EmulatorProcess -ConfigPath (Join-Path $PSScriptRoot 'emulator.pester.json')
    $script:baseUri = $script:emulator.BaseUri
    $script:echo = '11111111-1111-1111-1111-111111111111'
    $script:secureWf = '22222222-2222-2222-2222-222222222222'
    $script:slow = '44444444-4444-4444-4444-444444444444'

    # Scheduled-task style: everything from the environment, no prompt.
    $env:NEN_BASE_URL = $script:baseUri
    $env:NEN_API_KEY = 'pester-api-key'
    $env:NEN_SIGNING_KEY = 'pester-signing-key'
    Remove-Item Env:NEN_WEBHOOK_SECRET -ErrorAction SilentlyContinue
}

AfterAll {
    Stop-EmulatorProcess $script:emulator
    Remove-Item Env:NEN_BASE_URL, Env:NEN_API_KEY, Env:NEN_SIGNING_KEY, Env:NEN_WEBHOOK_SECRET -ErrorAction SilentlyContinue
    Remove-Module NenAi -ErrorAction SilentlyContinue
}

Describe 'The module' {
    It 'exports exactly the cmdlets its manifest lists, each with a docs page' {
        $listed = (Import-PowerShellDataFile (Join-Path $script:root 'NenAi.psd1')).CmdletsToExport | Sort-Object
        (Get-Module NenAi).ExportedCmdlets.Keys | Sort-Object | Should -Be $listed
        $listed | ForEach-Object { Join-Path $script:root "docs/en-US/$_.md" | Should -Exist }
        $listed | Should -Contain 'Receive-NenWebhook'
    }

    It 'has help for every cmdlet with at least three examples' {
        foreach ($name in (Get-Module NenAi).ExportedCmdlets.Keys) {
            $help = Get-Help $name -Full
            $help.Synopsis | Should -Not -BeNullOrEmpty
            @($help.Examples.Example).Count | Should -BeGreaterOrEqual 3
        }
    }
}

Describe 'Start-NenRun | Wait-NenRun | Get-NenRunResult' {
    It 'runs the CSV pipeline end to end' {
        $csv = Join-Path $TestDrive 'jobs.csv'
        @(
            [pscustomobject]@{ NAME = 'Ada'; COUNT = '1' }
            [pscustomobject]@{ NAME = 'Grace'; COUNT = '2' }
            [pscustomobject]@{ NAME = 'Alan'; COUNT = '3' }
        ) | Export-Csv -Path $csv -NoTypeInformation
        $out = Join-Path $TestDrive 'out'

        $files = Import-Csv $csv |
            Start-NenRun -WorkflowId $script:echo |
            Wait-NenRun -PollIntervalSec 0.2 -TimeoutSec 60 |
            Get-NenRunResult -Destination $out

        $files | Should -HaveCount 6   # assets.zip + report.txt per run
        ($files | Select-Object -ExpandProperty MessageId -Unique) | Should -HaveCount 3
        $files | ForEach-Object { $_.PSObject.TypeNames[0] | Should -Be 'NenAi.ResultFile' }
        $files.FullName | Should -Exist
        $reports = $files | Where-Object Name -EQ 'report.txt' | Get-Content -Raw
        ($reports -join "`n") | Should -Match '"NAME":"Grace"'
    }

    It 'writes NenAi.Run objects with the input row attached' {
        $run = [pscustomobject]@{ NAME = 'Row' } | Start-NenRun -WorkflowId $script:echo
        $run.PSObject.TypeNames[0] | Should -Be 'NenAi.Run'
        $run.MessageId | Should -Match '^[0-9a-f-]{36}$'
        $run.InputObject.NAME | Should -Be 'Row'
    }

    It 'binds WorkflowId from a column, so one CSV can target several workflows' {
        $rows = @(
            [pscustomobject]@{ WorkflowId = $script:echo; NAME = 'one' }
            [pscustomobject]@{ WorkflowId = $script:slow; NAME = 'two' }
        )
        $runs = $rows | Start-NenRun
        ($runs.WorkflowId | Sort-Object) | Should -Be @($script:echo, $script:slow)
    }

    It 'reports a bad row as a non-terminating error and goes on with the batch' {
        $rows = @(
            [pscustomobject]@{ WorkflowId = $script:echo; NAME = 'good' }
            [pscustomobject]@{ WorkflowId = 'not-a-guid'; NAME = 'bad' }
            [pscustomobject]@{ WorkflowId = $script:echo; NAME = 'good too' }
        )
        $runs = $rows | Start-NenRun -ErrorVariable errs -ErrorAction SilentlyContinue
        $runs | Should -HaveCount 2
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'NenInvalidWorkflowId,NenAi.Commands.StartNenRunCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $errs[0].TargetObject.NAME | Should -Be 'bad'
    }

    It 'surfaces the server''s validation message for a row that does not fit the workflow' {
        $null = [pscustomobject]@{ NAME = 'x'; COUNT = 'many' } | Start-NenRun -WorkflowId $script:echo -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'NenInvalidWorkflowParams,*'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $errs[0].Exception.Message | Should -Match 'COUNT'
    }

    It 'previews a batch with -WhatIf and sends nothing' {
        $before = (Get-EmulatorLedger $script:baseUri).requests.postRuns
        $result = 1..5 | ForEach-Object { [pscustomobject]@{ NAME = "preview $_" } } | Start-NenRun -WorkflowId $script:echo -WhatIf
        $result | Should -BeNullOrEmpty
        (Get-EmulatorLedger $script:baseUri).requests.postRuns | Should -Be $before
    }

    It 'never starts a row twice when the same command is re-run with a journal' {
        $journal = Join-Path $TestDrive 'batch.journal.jsonl'
        $rows = 1..4 | ForEach-Object { [pscustomobject]@{ Id = $_; NAME = "journal $_" } }
        $first = $rows | Start-NenRun -WorkflowId $script:echo -JournalPath $journal -KeyProperty Id -ExcludeProperty Id
        $before = (Get-EmulatorLedger $script:baseUri).accepted
        $second = $rows | Start-NenRun -WorkflowId $script:echo -JournalPath $journal -KeyProperty Id -ExcludeProperty Id
        (Get-EmulatorLedger $script:baseUri).accepted | Should -Be $before
        $second.Status | Sort-Object -Unique | Should -Be 'AlreadyAccepted'
        ($second.MessageId | Sort-Object) | Should -Be ($first.MessageId | Sort-Object)
    }

    It 'refuses a plain-text secure parameter' {
        { Start-NenRun -WorkflowId $script:secureWf -Parameter @{ USER = 'u' } -SecureParameter @{ password = 'plain text' } } |
            Should -Throw -ErrorId 'NenInvalidSecureParameter,NenAi.Commands.StartNenRunCommand'
    }

    It 'sends secure parameters from SecureString and PSCredential' {
        $secret = ConvertTo-SecretText 'correct horse battery'
        $cred = [pscredential]::new('user', $secret)
        $a = Start-NenRun -WorkflowId $script:secureWf -Parameter @{ USER = 'u' } -SecureParameter @{ password = $secret }
        $b = Start-NenRun -WorkflowId $script:secureWf -Parameter @{ USER = 'u' } -SecureParameter @{ password = $cred }
        $a.MessageId | Should -Not -BeNullOrEmpty
        $b.MessageId | Should -Not -BeNullOrEmpty
    }

    It 'stops with a clear error when no API key is configured' {
        $saved = $env:NEN_API_KEY
        try {
            Remove-Item Env:NEN_API_KEY
            { [pscustomobject]@{ NAME = 'x' } | Start-NenRun -WorkflowId $script:echo } |
                Should -Throw -ErrorId 'NenMissingApiKey,NenAi.Commands.StartNenRunCommand'
        }
        finally { $env:NEN_API_KEY = $saved }
    }
}

Describe 'Wait-NenRun' {
    It 'writes each unfinished run with a NenWaitTimeout error when the wait times out' {
        $run = [pscustomobject]@{ NAME = 'slow' } | Start-NenRun -WorkflowId $script:slow
        $status = $run | Wait-NenRun -PollIntervalSec 0.2 -TimeoutSec 2 -ErrorVariable errs -ErrorAction SilentlyContinue
        $status.TimedOut | Should -BeTrue
        $status.Status | Should -Be 'processing'
        $errs[0].FullyQualifiedErrorId | Should -Be 'NenWaitTimeout,NenAi.Commands.WaitNenRunCommand'
    }

    It 'takes message ids as strings' {
        $run = [pscustomobject]@{ NAME = 'by id' } | Start-NenRun -WorkflowId $script:echo
        $status = $run.MessageId | Wait-NenRun -PollIntervalSec 0.2 -TimeoutSec 60
        $status.Status | Should -Be 'success'
    }

    It 'reports a run the server does not know' {
        $null = Wait-NenRun -MessageId ([guid]::NewGuid().ToString()) -PollIntervalSec 0.2 -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'NenRunNotFound,*'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'refuses, without a request, ids that would change the request path or are far too long; any other id is asked about' {
        $before = (Get-EmulatorLedger $script:baseUri).requests.getRuns
        $bad = '../../../etc/passwd', ('7' * 100000)
        $null = $bad | Wait-NenRun -PollIntervalSec 0.2 -TimeoutSec 10 -ErrorVariable waitErrs -ErrorAction SilentlyContinue
        $null = $bad | Get-NenRun -ErrorVariable getErrs -ErrorAction SilentlyContinue
        (Get-EmulatorLedger $script:baseUri).requests.getRuns | Should -Be $before

        foreach ($errs in @(, $waitErrs) + @(, $getErrs)) {
            $errs | Should -HaveCount 2
            $errs[0].FullyQualifiedErrorId | Should -BeLike 'NenInvalidMessageId,*'
            $errs[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $errs[0].TargetObject | Should -Be '../../../etc/passwd'
            $errs[1].FullyQualifiedErrorId | Should -BeLike 'NenInvalidMessageId,*'
            $errs[1].Exception.Message | Should -Match '100000 characters'
            $errs[1].Exception.Message.Length | Should -BeLessThan 400
        }

        # Not a GUID, but an id the rule allows: the service is asked (and does not know it).
        $null = Wait-NenRun 'not-a-guid' -PollIntervalSec 0.2 -TimeoutSec 10 -ErrorVariable asked -ErrorAction SilentlyContinue
        (Get-EmulatorLedger $script:baseUri).requests.getRuns | Should -BeGreaterThan $before
        $asked[0].FullyQualifiedErrorId | Should -BeLike 'NenRunNotFound,*'
    }

    It 'stops at the first finished run with -Any' {
        $runs = @(
            ([pscustomobject]@{ NAME = 'quick' } | Start-NenRun -WorkflowId $script:echo)
            ([pscustomobject]@{ NAME = 'slow' } | Start-NenRun -WorkflowId $script:slow)
        )
        $first = $runs | Wait-NenRun -Any -PollIntervalSec 0.2 -TimeoutSec 60
        $first | Should -HaveCount 1
        $first.Status | Should -Be 'success'
    }
}

Describe 'Get-NenRun' {
    It 'writes the current status of each run without waiting for it' {
        $run = [pscustomobject]@{ NAME = 'slow' } | Start-NenRun -WorkflowId $script:slow
        $status = $run | Get-NenRun
        $status.PSObject.TypeNames[0] | Should -Be 'NenAi.RunStatus'
        $status.MessageId | Should -Be $run.MessageId
        $status.Status | Should -Be 'processing'
        $status.TimedOut | Should -BeFalse
    }

    It 'resumes a batch from its journal: Get-NenRun -JournalPath | Wait-NenRun | Get-NenRunResult' {
        $journal = Join-Path $TestDrive 'resume.jsonl'
        $rows = 1..3 | ForEach-Object { [pscustomobject]@{ Id = $_; NAME = "resume $_" } }
        $started = $rows | Start-NenRun -WorkflowId $script:echo -JournalPath $journal -KeyProperty Id -ExcludeProperty Id
        $before = (Get-EmulatorLedger $script:baseUri).requests.postRuns

        $files = Get-NenRun -JournalPath $journal | Wait-NenRun -PollIntervalSec 0.2 -TimeoutSec 60 | Get-NenRunResult -Destination (Join-Path $TestDrive 'resume')

        (Get-EmulatorLedger $script:baseUri).requests.postRuns | Should -Be $before
        ($files.MessageId | Sort-Object -Unique) | Should -Be ($started.MessageId | Sort-Object)
    }

    It 'reports a journal row whose outcome is unknown' {
        $journal = Join-Path $TestDrive 'crashed.jsonl'
        '{"key":"col:1","state":"Submitting","workflowId":"' + $script:echo + '","idempotencyKey":"nenai-1","at":"2025-01-02T03:04:05Z"}' | Set-Content $journal
        $runs = Get-NenRun -JournalPath $journal -ErrorVariable errs -ErrorAction SilentlyContinue
        $runs | Should -BeNullOrEmpty
        $errs[0].FullyQualifiedErrorId | Should -Be 'NenPreviousOutcomeUnknown,NenAi.Commands.GetNenRunCommand'
        $errs[0].TargetObject.Key | Should -Be 'col:1'
    }
}

Describe 'Get-NenRunResult' {
    It 'yields the workflow''s error for a failed run and carries on' {
        $runs = @([pscustomobject]@{ NAME = 'FAIL' }, [pscustomobject]@{ NAME = 'fine' }) | Start-NenRun -WorkflowId $script:echo
        $files = $runs | Wait-NenRun -PollIntervalSec 0.2 -TimeoutSec 60 |
            Get-NenRunResult -Destination (Join-Path $TestDrive 'failed') -ErrorVariable errs -ErrorAction SilentlyContinue
        $files | Should -HaveCount 2
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'NenRunFailed,NenAi.Commands.GetNenRunResultCommand'
        $errs[0].Exception.Message | Should -Match 'asked to fail'
    }

    It 'skips complete files on a second call and unpacks with -Expand' {
        $dest = Join-Path $TestDrive 'again'
        $status = [pscustomobject]@{ NAME = 'twice' } | Start-NenRun -WorkflowId $script:echo | Wait-NenRun -PollIntervalSec 0.2 -TimeoutSec 60
        $null = $status | Get-NenRunResult -Destination $dest
        $second = $status | Get-NenRunResult -Destination $dest -Expand
        ($second | Where-Object { -not $_.Expanded }).Skipped | Sort-Object -Unique | Should -Be $true
        Join-Path $dest $status.MessageId 'assets' 'result.json' | Should -Exist
    }
}

Describe 'Test-NenWebhookSignature' {
    BeforeAll {
        $script:body = '{"workflow_id":"w","message_id":"m","status":"processing","expires_at":1730319600}'
        $script:signature = 'sha256=21996d5aa24b68f926846745201355ffbd33bfef0e44e151d11bf2f2ae5c1ecb'
        $script:secret = ConvertTo-SecretText 'whsec-test'
    }

    It 'accepts the spec''s test vector' {
        Test-NenWebhookSignature -Body $script:body -Signature $script:signature -Secret $script:secret | Should -BeTrue
    }

    It 'accepts raw bytes and finds the header whatever its case' {
        $bytes = [System.Text.Encoding]::UTF8.GetBytes($script:body)
        Test-NenWebhookSignature -Body $bytes -Headers @{ 'x-hmac-signature' = $script:signature } -Secret $script:secret | Should -BeTrue
    }

    It 'tries every secret given (key rotation)' {
        $old = ConvertTo-SecretText 'whsec-old'
        Test-NenWebhookSignature -Body $script:body -Signature $script:signature -Secret $old, $script:secret | Should -BeTrue
    }

    It 'accepts an upper-case prefix or upper-case hex digits' {
        Test-NenWebhookSignature -Body $script:body -Signature 'SHA256=21996D5AA24B68F926846745201355FFBD33BFEF0E44E151D11BF2F2AE5C1ECB' -Secret $script:secret | Should -BeTrue
    }

    It 'takes the secret as a PSCredential' {
        Test-NenWebhookSignature -Body $script:body -Signature $script:signature -Secret ([pscredential]::new('hook', $script:secret)) | Should -BeTrue
    }

    It 'finds the signature in HttpListener-style headers and writes the update with -PassThru' {
        $headers = [System.Net.WebHeaderCollection]::new()
        $headers.Add('x-HMAC-signature', $script:signature)
        $update = Test-NenWebhookSignature -Body $script:body -Headers $headers -Secret $script:secret -PassThru
        $update.PSObject.TypeNames[0] | Should -Be 'NenAi.RunStatus'
        $update.MessageId | Should -Be 'm'
        $update.Status | Should -Be 'processing'
    }

    It 'writes a NenInvalidWebhookSignature error and no object with -PassThru when the signature is wrong' {
        $update = Test-NenWebhookSignature -Body $script:body -Signature 'sha256=00' -Secret $script:secret -PassThru -ErrorVariable errs -ErrorAction SilentlyContinue
        $update | Should -BeNullOrEmpty
        $errs[0].FullyQualifiedErrorId | Should -Be 'NenInvalidWebhookSignature,NenAi.Commands.TestNenWebhookSignatureCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'SecurityError'
    }

    It 'stops with NenMissingWebhookSecret when no secret is configured' {
        { Test-NenWebhookSignature -Body $script:body -Signature $script:signature } |
            Should -Throw -ErrorId 'NenMissingWebhookSecret,NenAi.Commands.TestNenWebhookSignatureCommand'
    }

    It 'returns $false with the reason in -Verbose for <Case>' -ForEach @(
        @{ Case = 'a wrong prefix'; Sig = 'sha1=21996d5aa24b68f926846745201355ffbd33bfef0e44e151d11bf2f2ae5c1ecb'; Reason = 'sha256=' }
        @{ Case = 'a wrong length'; Sig = 'sha256=21996d'; Reason = 'hex digits' }
        @{ Case = 'an empty signature'; Sig = ''; Reason = 'missing' }
    ) {
        $result = Test-NenWebhookSignature -Body $script:body -Signature $Sig -Secret $script:secret -Verbose 4>&1
        # Exactly one [bool], and it is $false (piping nothing into -BeFalse would pass).
        $bools = @($result | Where-Object { $_ -is [bool] })
        $bools | Should -HaveCount 1
        $bools[0] | Should -BeExactly $false
        ($result | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Match $Reason
    }

    It 'falls back to NEN_WEBHOOK_SECRET' {
        try {
            $env:NEN_WEBHOOK_SECRET = 'whsec-test'
            Test-NenWebhookSignature -Body $script:body -Signature $script:signature | Should -BeTrue
        }
        finally { Remove-Item Env:NEN_WEBHOOK_SECRET }
    }
}

Describe 'Secrets' {
    It 'refuses a CSV column that -SecureParameter names too, once for the command and before anything is sent' {
        $csv = Join-Path $TestDrive 'with-password.csv'
        "USER,password`njane,canary-column-4f1e2a`njohn,canary-column-4f1e2a" | Set-Content -LiteralPath $csv
        $password = ConvertTo-SecretText 'correct horse battery'
        $before = (Get-EmulatorLedger $script:baseUri).requests.postRuns

        # The first row shows the input's shape: one error ends the command (as a -Property typo does), nothing is sent.
        $out = $null
        $errs = @(try { $out = Import-Csv $csv | Start-NenRun -WorkflowId $script:secureWf -SecureParameter @{ password = $password } -ErrorVariable rowErrs } catch { $_ })
        $clash = { Start-NenRun -WorkflowId $script:secureWf -Parameter @{ USER = 'u'; Password = 'canary-plain-8b3c51' } -SecureParameter @{ password = $password } }

        $out | Should -BeNullOrEmpty
        @($rowErrs).Count | Should -Be 1   # that one, not one per row
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'NenSecureParameterConflict,NenAi.Commands.StartNenRunCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $errs[0].TargetObject | Should -Be 'password'
        $errs[0].Exception.Message | Should -Match '-ExcludeProperty password'
        ($errs[0] | Out-String) | Should -Not -Match 'canary-column'
        $clash | Should -Throw -ErrorId 'NenSecureParameterConflict,NenAi.Commands.StartNenRunCommand'
        (Get-EmulatorLedger $script:baseUri).requests.postRuns | Should -Be $before

        # The fix the message gives: the column left out, the row goes with the secure value only.
        $run = Import-Csv $csv | Select-Object -First 1 | Start-NenRun -WorkflowId $script:secureWf -SecureParameter @{ password = $password } -ExcludeProperty password
        $run.MessageId | Should -Not -BeNullOrEmpty
    }

    It 'never shows a canary secret in any of the six output streams' {
        $canaries = 'canary-apikey-5a1b7e', 'canary-signing-9c2d41', 'canary-webhook-33ef08', 'canary-password-77e0c3'
        $apiKey = ConvertTo-SecretText $canaries[0]
        $signingKey = ConvertTo-SecretText $canaries[1]
        $password = ConvertTo-SecretText $canaries[3]
        $hookSecret = ConvertTo-SecretText $canaries[2]
        $DebugPreference = 'Continue'
        $InformationPreference = 'Continue'

        $captured = & {
            [pscustomobject]@{ USER = 'jane' } |
                Start-NenRun -WorkflowId $script:secureWf -SecureParameter @{ password = $password } -ApiKey $apiKey -SigningKey $signingKey -Verbose -Debug |
                Wait-NenRun -ApiKey $apiKey -SigningKey $signingKey -PollIntervalSec 0.2 -TimeoutSec 60 -Verbose -Debug |
                Get-NenRunResult -ApiKey $apiKey -SigningKey $signingKey -Destination (Join-Path $TestDrive 'secrets') -Verbose -Debug
            # Failures: wrong API key, wrong signing key, too-short secure value, bad webhook signature.
            [pscustomobject]@{ USER = 'jane' } | Start-NenRun -WorkflowId $script:secureWf -SecureParameter @{ password = ConvertTo-SecretText 'canary' } -ApiKey $apiKey -SigningKey $signingKey -Verbose -Debug
            # A refused key is one error for its command (issue 17; written last, non-terminating, since issue 25): captured too.
            try { [pscustomobject]@{ NAME = 'x' } | Start-NenRun -WorkflowId $script:echo -ApiKey (ConvertTo-SecretText ($canaries[0] + 'x')) -Verbose -Debug } catch { $_ }
            try { [pscustomobject]@{ NAME = 'x' } | Start-NenRun -WorkflowId $script:echo -ApiKey $apiKey -SigningKey (ConvertTo-SecretText ($canaries[1] + 'x')) -Verbose -Debug } catch { $_ }
            Test-NenWebhookSignature -Body '{}' -Signature 'sha256=00' -Secret $hookSecret -Verbose
            Write-Information 'end of scenario'
        } *>&1

        $captured | Should -Not -BeNullOrEmpty
        $text = foreach ($item in $captured) {
            $item | Out-String
            if ($item -is [System.Management.Automation.ErrorRecord]) {
                $item.Exception.ToString()
                "$($item.ErrorDetails)"
                $item.TargetObject | Out-String
            }
        }
        $all = $text -join "`n"
        foreach ($canary in $canaries + 'canary') { $all | Should -Not -Match ([regex]::Escape($canary)) }
        $all | Should -Not -Match 'sig='
        $all | Should -Match 'VERBOSE|POST'   # the scenario really logged
    }
}
