"""Values the pack shares with the program.

The pack runs in its own virtualenv and cannot import the program, so these are
duplicated; tests/policies/test_pack.py asserts they equal the program's.
"""

from __future__ import annotations

#: The ELB security policies that negotiate TLS 1.3 and nothing older (ENC-1). An exact
#: allow-list, never a prefix: `ELBSecurityPolicy-TLS13-1-2-*` policies also accept TLS 1.2.
#: Same list as stackconfig.edge.TLS13_ONLY_POLICIES.
#: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
TLS13_ONLY_POLICIES = (
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
)

#: What an HTTPS/TLS listener negotiates when `sslPolicy` is omitted (the API default).
#: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/create-https-listener.html
ELB_DEFAULT_SSL_POLICY = "ELBSecurityPolicy-2016-08"

#: The primary region (BAK-1: Tokyo) and the default DR region (BCP-1: Osaka).
HOME_REGION = "ap-northeast-1"
DR_REGION = "ap-northeast-3"
ALLOWED_REGIONS = (HOME_REGION, DR_REGION)

#: What a bucket holds, declared by the program as the tag DATA_CLASS_TAG on every bucket
#: (components/data_class.py documents the vocabulary). Policies select buckets by it,
#: never by name: customer-media (users' uploads and recordings, and their DR replica),
#: logs (AWS log deliveries, S3 access logs), artifacts (the platform's own tooling output).
DATA_CLASS_TAG = "kakoi:data-class"
CUSTOMER_MEDIA = "customer-media"
LOGS = "logs"
ARTIFACTS = "artifacts"
DATA_CLASSES = (CUSTOMER_MEDIA, LOGS, ARTIFACTS)

#: CIDRs that mean "anyone on the internet".
WORLD_V4 = "0.0.0.0/0"
WORLD_V6 = "::/0"

# --- resource type tokens (pulumi-aws v7) -----------------------------------------
LB = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENER = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LISTENER_RULE = ("aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule")
TARGET_GROUP = ("aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup")
SG = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
BUCKET = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_SSE = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",)
BUCKET_VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning",)
BUCKET_LIFECYCLE = ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",)
BUCKET_LOGGING = ("aws:s3/bucketLogging:BucketLogging",)
BUCKET_OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
BUCKET_OBJECT_LOCK = ("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",)
KMS_KEY = "aws:kms/key:Key"
KMS_REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"
DB = "aws:rds/instance:Instance"
DB_PARAMS = "aws:rds/parameterGroup:ParameterGroup"
DB_BACKUP_REPLICATION = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
BACKUP_VAULT = "aws:backup/vault:Vault"
BACKUP_PLAN = "aws:backup/plan:Plan"
BACKUP_SELECTION = "aws:backup/selection:Selection"
GUARDDUTY = "aws:guardduty/detector:Detector"
GUARDDUTY_FEATURE = "aws:guardduty/detectorFeature:DetectorFeature"
MALWARE_PLAN = "aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan"
TRAIL = "aws:cloudtrail/trail:Trail"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SNS_TOPIC = "aws:sns/topic:Topic"
SNS_SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
CERTIFICATE = "aws:acm/certificate:Certificate"
ECS_CLUSTER = "aws:ecs/cluster:Cluster"
ECS_SERVICE = "aws:ecs/service:Service"
ECS_TASK = "aws:ecs/taskDefinition:TaskDefinition"
ECR_REPO = "aws:ecr/repository:Repository"
ECR_LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
AWS_PROVIDER = "pulumi:providers:aws"
