"""The published security sheet in its own form (Japanese), row by row, with our sheet IDs.

`ROWS` follows the original (VoicePing's security page and sheet; the copy is
`seeds/000_4bc0b183fd33b743.txt` beside docs/security-sheet.md's source) in its order:
first its summary table (種別 / 評価項目 / 内容 / 対応状況), then every bullet of its
sections, each as a row with the section as 種別, the heading as 評価項目 and the
bullet's own words as 内容. `published` is the sheet's own answer where it gives one
(the summary table). `SUMMARY_JA` says, per ID, how this project answers the item; the
Japanese controls report (tools/controls_ja.py) puts it beside the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    kind: str  # 種別
    item: str  # 評価項目
    content: str  # 内容 (the sheet's wording)
    ids: tuple[str, ...]
    published: str = ""  # the sheet's own 対応状況, where it has one


#: 種別 -> 評価項目 -> 内容 -> the row's sheet ID, or (ID, the sheet's own 対応状況) in the summary table
_Table = dict[str, dict[str, dict[str, str | tuple[str, str]]]]


def _rows(table: _Table) -> tuple[Row, ...]:
    """The table's rows, in its order."""
    rows: list[Row] = []
    for kind, items in table.items():
        for item, contents in items.items():
            for content, answer in contents.items():
                sid, published = (answer, "") if isinstance(answer, str) else answer
                rows.append(Row(kind, item, content, (sid,), published))
    return tuple(rows)


#: the sheet's summary table: 種別 -> 評価項目 -> 内容 -> (ID, the sheet's own 対応状況)
_SUMMARY_TABLE: _Table = {
    "セキュリティ": {
        "公的認証取得状況": {
            "ISMS、Pマーク等の取得": ("CERT-1", "ISMS取得予定(準備中)"),
        },
        "第三者評価": {
            "不正な侵入、操作、データ取得等への対策評価": ("AUDIT-1", "-"),
        },
        "情報取扱い環境": {
            "利用者データへのアクセス制限": ("NET-1", "AWSセキュリティグループにより特定IPアドレスに制限"),
        },
        "通信の暗号化レベル": {
            "通信の暗号化強度": ("ENC-1", "TLS1.3のみ使用"),
        },
        "ウィルス対策": {
            "ウィルススキャン": ("AV-1", "AWS Guard Dutyによる常時不正行為の検出"),
        },
    },
    "データ保護": {
        "バックアップデータ": {
            "暗号化、保管場所": ("BAK-1", "AWS東京リージョン"),
        },
        "利用企業間のデータ分離": {
            "企業間の情報隔離": ("ISO-1", "データベースによる論理隔離"),
        },
    },
}

#: the bullets of its sections: 種別 (the section) -> 評価項目 (the heading) -> 内容 (the bullet) -> ID
_SECTIONS: _Table = {
    "データ保護": {
        "通信の暗号化": {
            "アプリケーション及び映像音声データはTLS1.3のみを使用": "ENC-1",
            "HTTPS通信を強制(AWS ELBで設定)": "ENC-2",
        },
        "バックアップ": {
            "実施サイクル:AWS Databaseにより1ヶ月単位のバックアップ": "BAK-2",
            "保管期間:サーバーへのアクセスログは永続的にS3に保存": "LOG-1",
            "BCP対策:AWS Database上でマルチリージョンでクラウド上に遠隔保存": "BCP-1",
        },
        "データアクセス制限": {
            "データベースおよびサーバーのアクセスはAWSでのセキュリティグループにより特定IPアドレスに制限": "NET-1",
            "利用企業間のデータはデータベースによる論理隔離": "ISO-1",
        },
    },
    "可用性": {
        "稼働率": {
            "サービス利用時間:原則24時間365日": "AVL-1",
            "SLA:99.9%以上": "AVL-1",
            "実績:99.99%以上(サービス運用以来、数十分以上のサーバーダウン等は発生なし)": "AVL-1",
        },
        "障害時の対応": {
            "ソースコードの差分バックアップ、DBのバックアップがあり、24時間いつでも即座にロールバック(復旧)可能": "REC-1",
            "すべてのサーバープロセスやシステム状態はAWS Cloudwatchもしくは自前のアラートシステムにより全状態が可視化": "MON-1",
            "万が一ダウンがあった場合にはアラート通知": "MON-2",
        },
        "計画停止": {
            "毎週金曜日 21:00頃をアップデート時間と定めており、数秒程度接続が切れる場合あり": "MNT-1",
            "営業時間中にアップデートが必要な場合は、Emailもしくはテキストチャットサポートによるリアルタイム通知": "MNT-2",
        },
    },
    "サポート体制": {
        "障害発生時の通知": {
            "連絡方法:Email及びアプリ内のテキストチャットサービス(Intercom)より通知": "SUP-1",
        },
        "緊急連絡先": {
            "テキストチャットサービス(Intercom)もしくはお問い合わせフォームより対応": "SUP-2",
            "営業時間中 9:00〜18:00 に通常5分以内に回答": "SUP-2",
        },
    },
    "ユーザー管理": {
        "アカウント管理": {
            "1ユーザー1アカウント": "USR-1",
            "退社、移動時の削除管理はユーザー側で物理削除可能": "USR-2",
        },
        "パスワード管理": {
            "ユーザー側で変更可能": "PWD-1",
            "Emailトークンによる2段階認証も搭載": "PWD-2",
        },
    },
    "ウェブアプリケーションセキュリティ": {
        "SQLインジェクション対策": {
            "バックエンドでミドルウェアのORMでDBの操作を実施": "SQL-1",
            "SQL文の組み立ては全てプレースホルダで実装": "SQL-2",
            "データベースアカウントに適切な権限を付与(READ、WRITEが必要な権限アカウントを作成)": "SQL-3",
        },
        "OSコマンド・インジェクション対策": {
            "シェルの起動は基本的に行わない": "CMD-1",
            "シェルに近いレイヤーのロジックが必要な場合は安全性が確認されたライブラリを通してのみ実行": "CMD-2",
        },
        "パス名パラメータ/ディレクトリ・トラバーサル対策": {
            "外部のホスティングもしくはDBにデータを保存": "PATH-1",
            "WEBサーバー内ファイルに直接アクセスする機能は存在しない": "PATH-2",
            "ファイル名はランダム名を使用し、予測不可能な形式": "PATH-3",
        },
        "セッション管理": {
            "セッションIDは予測不可能で、十分な長さのランダム文字列を利用": "SES-1",
            "セッションIDはCookieを使用(URLパラメータに格納しない)": "SES-2",
            "HTTPS通信で利用するCookieにはSecure属性を使用": "SES-3",
            "非ログインアクセス可能ページと、そうでないページは分離済み": "SES-4",
        },
        "クロスサイト・スクリプティング(XSS)対策": {
            "対応するフロントエンドライブラリを使用": "XSS-1",
            "AWS ELBでhttps強制": "XSS-2",
            "HTTPレスポンスヘッダのContent-Typeフィールドに文字コード(charset)の指定": "XSS-3",
            "CookieにHttpOnly属性を付与": "XSS-4",
        },
        "CSRF対策": {
            "バックエンド側でPOSTメソッドでのアクセス制御": "CSRF-1",
            "Refererの確認": "CSRF-2",
            "重要な操作を行った際に、登録済みのメールアドレスに自動送信": "CSRF-3",
        },
        "HTTPヘッダ・インジェクション対策": {
            "バックエンドミドルウェアでヘッダ出力用APIを使用": "HDR-1",
        },
        "クリックジャッキング対策": {
            "X-Frame-Optionsヘッダフィールドを出力": "CJ-1",
            "有効なセッションがないと、実行が不可": "CJ-2",
            "重要な処理は、一連の操作をマウスのみで実行できないように設計": "CJ-3",
        },
        "バッファオーバーフロー対策": {
            "Node.jsを使用しており、直接メモリにアクセスできない": "BOF-1",
            "Githubの定期ライブラリチェックにより、脆弱性ライブラリに対してPRが挙げられ、適宜ライブラリの更新を実施": "BOF-2",
        },
        "アクセス制御・認可制御": {
            "マネージャー権限に対しては2段階Emailトークン認証の利用が可能": "AUTHZ-1",
            "認証機能に加えて認可制御の処理を実装し、ログイン中の利用者が他人になりすましてアクセスできないように対策": "AUTHZ-2",
        },
    },
}

ROWS: tuple[Row, ...] = _rows(_SUMMARY_TABLE) + _rows(_SECTIONS)

#: how this project answers each item, in a sentence (the evidence follows in the report)
SUMMARY_JA: dict[str, str] = {
    "CERT-1": "認証の取得は会社としての手続きであり、本基盤のコードでは満たせません。",
    "AUDIT-1": "第三者が再実行できる自動の証跡として、ポリシーパックによる検査結果と、セキュリティのテスト一式を公開しています。",
    "NET-1": "セキュリティグループは許可した CIDR か他のセキュリティグループからの通信のみを受け付け、インターネットに開くのはロードバランサーの 443 番（と HTTPS へ転送するだけの 80 番）だけです。データベースとアプリは外部から到達できないサブネットに置いています。",
    "ENC-1": "ロードバランサーは TLS 1.3 専用のセキュリティポリシーのみ、データベースとメディア用バケットは TLS 1.3 未満の接続を拒否します。通話の映像・音声は TLS 1.3 の TURN リレーのみを経由します。",
    "ENC-2": "80 番ポートは HTTPS への 301 リダイレクトのみを返し、HTTPS 応答には HSTS ヘッダーを付けています。",
    "AV-1": "GuardDuty の検出器を保護機能（S3、RDS ログイン、ランタイム監視）付きで常時有効にし、アップロードされたメディアはマルウェアスキャンを通過するまで配信しません。",
    "BAK-1": "バックアップはすべて KMS のカスタマー管理キーで暗号化し、主リージョンは東京（ap-northeast-1）です。",
    "BAK-2": "データベースの自動バックアップ（35 日間のポイントインタイムリカバリ）に加え、AWS Backup で日次と月次（1 年以上保持）のバックアップを取得しています。",
    "BCP-1": "データベースのバックアップを大阪リージョン（ap-northeast-3）に複製し、AWS Backup の復旧ポイントも大阪の保管庫へコピーしています。",
    "ISO-1": "PostgreSQL の行レベルセキュリティでテナントごとにデータを分離しています。アプリの接続ロールはこれを回避できず、テナントが指定されない場合は何も返しません。",
    "LOG-1": "ロードバランサーのアクセスログ、WAF ログ、VPC フローログ、CloudTrail を S3 のログアーカイブに保存します。期限切れで削除されることはなく、Object Lock で消去から守られています。",
    "AVL-1": "すべての層を複数のアベイラビリティーゾーンに配置し、外部からの死活監視と 99.9% の SLO アラームを設けています。",
    "REC-1": "デプロイに失敗すると自動でロールバックします。データベースは任意の時点に復元でき、手順は文書化され、テストで検証しています。",
    "MON-1": "ロードバランサー、サービス、データベースのダッシュボードとアラームを CloudWatch に用意しています。",
    "MON-2": "すべてのアラームは暗号化された SNS トピックに通知され、設定で指定した宛先に届きます。",
    "MNT-1": "メンテナンスウィンドウは金曜 21:00（日本時間）に設定しています。デプロイやタスク入れ替えで通話が切れても数秒で、画面は自動で再接続します。",
    "MNT-2": "営業時間中の更新を事前にお知らせする手順を運用手順書に定めています。",
    "SUP-1": "障害のお知らせはサポート体制の業務です。アラートのメール通知は MON-2 で実装しています。",
    "SUP-2": "緊急連絡の受付と回答はサポート体制の業務であり、コードの対象外です。",
    "USR-1": "メールアドレス 1 件につきアカウントは全体で 1 件です。",
    "USR-2": "本人またはマネージャーがアカウントを削除すると、データベースの行と本人のメディアが物理的に削除され、セッションも終了します。",
    "PWD-1": "パスワードは本人が変更でき、変更時には再認証を求め、登録メールアドレスへ通知します。",
    "PWD-2": "メールで送るワンタイムコードによる 2 段階認証を備えています。",
    "SQL-1": "データベースの操作は Django の ORM を通して行います。",
    "SQL-2": "SQL 文はすべてプレースホルダで組み立て、文字列連結による SQL がないことをテストで確認しています。",
    "SQL-3": "マイグレーション用の所有者ロールと、データ操作だけを許すアプリ用ロールを分けています。アプリ用ロールは行レベルセキュリティを回避できません。",
    "CMD-1": "アプリのコードからシェルやサブプロセスを起動しないことをテストとリンターで確認し、稼働中のタスクへ ECS Exec でシェルを開く設定もポリシーで禁止しています。",
    "CMD-2": "シェルに近い処理は、安全性が確認されたライブラリ（boto3 など）を通してのみ行います。",
    "PATH-1": "メディアは S3 に、メタデータは PostgreSQL に保存しています。",
    "PATH-2": "Web サーバー上のファイルを直接読み出す機能はありません。",
    "PATH-3": "オブジェクトのキーはサーバー側で生成するランダムな ID で、利用者が付けたファイル名がパスになることはありません。",
    "SES-1": "セッション ID は Django が生成する十分な長さの予測不可能な乱数です。",
    "SES-2": "セッション ID は Cookie でのみ扱い、URL には含めません。",
    "SES-3": "HTTPS で使う Cookie にはすべて Secure 属性を付けています。",
    "SES-4": "ログインを既定で必須とし、ログインなしで開けるページは明示した一覧に限っています。",
    "XSS-1": "テンプレートは自動エスケープし、Content-Security-Policy を送っています。",
    "XSS-2": "HTTPS の強制はロードバランサーで行っています（ENC-2 と同じ）。",
    "XSS-3": "Content-Type ヘッダーには文字コード（charset）を指定しています。",
    "XSS-4": "Cookie には HttpOnly 属性を付けています。",
    "CSRF-1": "状態を変える操作は POST のみで受け付け、バックエンドで CSRF トークンを検証します。",
    "CSRF-2": "ロードバランサーの背後でも Origin と Referer を確認しています。",
    "CSRF-3": "パスワード、2 段階認証、メールアドレス、権限の変更や削除などの重要な操作を行うと、登録済みのメールアドレスに自動で通知します。",
    "HDR-1": "レスポンスヘッダーはフレームワークのヘッダー API だけで出力しています。",
    "CJ-1": "X-Frame-Options と CSP の frame-ancestors を送り、ロードバランサーでも X-Frame-Options を付けています。",
    "CJ-2": "有効なセッションがなければ操作は実行できません。",
    "CJ-3": "重要な操作は、パスワードや確認の文字の入力を求め、マウス操作だけでは完了できないようにしています。",
    "BOF-1": "メモリ安全な実行環境（Python）を使い、メモリを直接操作するコードはありません。",
    "BOF-2": "依存関係はハッシュ付きで固定し、Dependabot が更新の PR を作成し、CI で既知の脆弱性を監査しています。",
    "AUTHZ-1": "マネージャー権限には 2 段階認証を必須にしています。",
    "AUTHZ-2": "すべてのオブジェクトの参照を利用者とテナントに限定しており、他のテナントの ID を指定しても 404 を返します。",
}

#: the Japanese for the statuses of tools/controls.py
STATUS_JA: dict[str, str] = {
    "pass": "対応済み",
    "tested": "対応済み",
    "documented": "対応済み（手順書）",
    "organisational": "組織的対応",
    "fail": "未対応",
    "not applicable": "該当なし",
}

#: what each status means, for the legend of the report
STATUS_LEGEND_JA: dict[str, str] = {
    "pass": "基盤の構成で実装し、ポリシーで強制している（本番の構成で全ポリシーが合格）",
    "tested": "アプリで実装し、CI で実行するテストで検証している",
    "documented": "運用手順書で定めている",
    "organisational": "会社の手続きであり、コードでは満たせない",
    "fail": "必須ポリシーの違反、または実装・テストが見つからない",
    "not applicable": "本基盤にもアプリにも判定の対象がない",
}
