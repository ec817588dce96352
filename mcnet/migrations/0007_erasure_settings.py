from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mcnet", "0006_patient_request_due_days"),
    ]

    operations = [
        migrations.AlterField(
            model_name="networksettings",
            name="retention_days",
            field=models.PositiveIntegerField(
                default=1825,
                help_text="患者の利用が終わってから個人情報を削除するまでの日数です（別紙5 (3)、別紙6）。患者グループがすべてアーカイブされた日、または同意が撤回・誤登録とされ利用中のグループがない患者はその日から数えます。過ぎると、毎日の処理が氏名・ふりがな・生年月日・住所・電話番号、同意書の画像、帳票、通知の文面を削除します。",
                verbose_name="利用終了後の個人情報の保存期間（日）",
            ),
        ),
        migrations.AddField(
            model_name="networksettings",
            name="unconsented_grace_days",
            field=models.PositiveIntegerField(
                default=90,
                help_text="患者を登録してから同意書（別紙7）が記録されないまま、この日数が過ぎると、その患者の個人情報を削除します（別紙6）。削除の14日前に、登録した人へ一度だけ通知します。",
                verbose_name="同意書のない患者の保存期間（日）",
            ),
        ),
        migrations.AlterField(
            model_name="networksettings",
            name="archive_deadline_days",
            field=models.PositiveIntegerField(
                default=14,
                help_text="同意の撤回や利用終了の報告から、MCS管理者がグループをアーカイブするまでの期限です（留意事項2「速やかに」）。過ぎるとMCS管理者に通知します。",
                verbose_name="アーカイブ予定からアーカイブまでの期限（日）",
            ),
        ),
    ]
