package protocol

// The Kafka error codes, one sentinel per code (Kafka's Errors enum). Use
// errors.Is(err, protocol.ErrNotLeaderOrFollower) to test for one.
var (
	ErrUnknownServerError                 = &Error{Code: -1, Name: "UNKNOWN_SERVER_ERROR", Retriable: false, Message: "the broker hit an unexpected error"}
	ErrOffsetOutOfRange                   = &Error{Code: 1, Name: "OFFSET_OUT_OF_RANGE", Retriable: false, Message: "the requested offset is outside the log"}
	ErrCorruptMessage                     = &Error{Code: 2, Name: "CORRUPT_MESSAGE", Retriable: true, Message: "the broker found a record batch that failed its CRC or is malformed"}
	ErrUnknownTopicOrPartition            = &Error{Code: 3, Name: "UNKNOWN_TOPIC_OR_PARTITION", Retriable: true, Message: "the broker does not host this topic or partition"}
	ErrInvalidFetchSize                   = &Error{Code: 4, Name: "INVALID_FETCH_SIZE", Retriable: false, Message: "the requested fetch size is invalid"}
	ErrLeaderNotAvailable                 = &Error{Code: 5, Name: "LEADER_NOT_AVAILABLE", Retriable: true, Message: "the partition has no leader right now (an election is in progress)"}
	ErrNotLeaderOrFollower                = &Error{Code: 6, Name: "NOT_LEADER_OR_FOLLOWER", Retriable: true, Message: "the broker is not the leader of this partition"}
	ErrRequestTimedOut                    = &Error{Code: 7, Name: "REQUEST_TIMED_OUT", Retriable: true, Message: "the request timed out on the broker; it may still have been written"}
	ErrBrokerNotAvailable                 = &Error{Code: 8, Name: "BROKER_NOT_AVAILABLE", Retriable: false, Message: "the broker is not available"}
	ErrReplicaNotAvailable                = &Error{Code: 9, Name: "REPLICA_NOT_AVAILABLE", Retriable: true, Message: "a replica is not available"}
	ErrMessageTooLarge                    = &Error{Code: 10, Name: "MESSAGE_TOO_LARGE", Retriable: false, Message: "the record batch is larger than the broker or topic accepts"}
	ErrStaleControllerEpoch               = &Error{Code: 11, Name: "STALE_CONTROLLER_EPOCH", Retriable: false, Message: "the controller epoch is stale"}
	ErrOffsetMetadataTooLarge             = &Error{Code: 12, Name: "OFFSET_METADATA_TOO_LARGE", Retriable: false, Message: "the offset commit metadata is too large"}
	ErrNetworkException                   = &Error{Code: 13, Name: "NETWORK_EXCEPTION", Retriable: true, Message: "the broker lost a connection while handling the request"}
	ErrCoordinatorLoadInProgress          = &Error{Code: 14, Name: "COORDINATOR_LOAD_IN_PROGRESS", Retriable: true, Message: "the coordinator is still loading its state"}
	ErrCoordinatorNotAvailable            = &Error{Code: 15, Name: "COORDINATOR_NOT_AVAILABLE", Retriable: true, Message: "the coordinator is not available"}
	ErrNotCoordinator                     = &Error{Code: 16, Name: "NOT_COORDINATOR", Retriable: true, Message: "the broker is not the coordinator for this key"}
	ErrInvalidTopicException              = &Error{Code: 17, Name: "INVALID_TOPIC_EXCEPTION", Retriable: false, Message: "the topic name is invalid, or the topic is internal"}
	ErrRecordListTooLarge                 = &Error{Code: 18, Name: "RECORD_LIST_TOO_LARGE", Retriable: false, Message: "the request's record set is larger than the broker accepts"}
	ErrNotEnoughReplicas                  = &Error{Code: 19, Name: "NOT_ENOUGH_REPLICAS", Retriable: true, Message: "too few in-sync replicas to accept the write"}
	ErrNotEnoughReplicasAfterAppend       = &Error{Code: 20, Name: "NOT_ENOUGH_REPLICAS_AFTER_APPEND", Retriable: true, Message: "the write was appended but too few replicas are in sync"}
	ErrInvalidRequiredAcks                = &Error{Code: 21, Name: "INVALID_REQUIRED_ACKS", Retriable: false, Message: "acks is not -1, 0 or 1"}
	ErrIllegalGeneration                  = &Error{Code: 22, Name: "ILLEGAL_GENERATION", Retriable: false, Message: "the group generation is not current"}
	ErrInconsistentGroupProtocol          = &Error{Code: 23, Name: "INCONSISTENT_GROUP_PROTOCOL", Retriable: false, Message: "the group member's protocol does not match the group's"}
	ErrInvalidGroupID                     = &Error{Code: 24, Name: "INVALID_GROUP_ID", Retriable: false, Message: "the group id is invalid"}
	ErrUnknownMemberID                    = &Error{Code: 25, Name: "UNKNOWN_MEMBER_ID", Retriable: false, Message: "the group member id is not known"}
	ErrInvalidSessionTimeout              = &Error{Code: 26, Name: "INVALID_SESSION_TIMEOUT", Retriable: false, Message: "the session timeout is out of the allowed range"}
	ErrRebalanceInProgress                = &Error{Code: 27, Name: "REBALANCE_IN_PROGRESS", Retriable: false, Message: "the group is rebalancing"}
	ErrInvalidCommitOffsetSize            = &Error{Code: 28, Name: "INVALID_COMMIT_OFFSET_SIZE", Retriable: false, Message: "the committed offset metadata is invalid"}
	ErrTopicAuthorizationFailed           = &Error{Code: 29, Name: "TOPIC_AUTHORIZATION_FAILED", Retriable: false, Message: "the principal may not access this topic"}
	ErrGroupAuthorizationFailed           = &Error{Code: 30, Name: "GROUP_AUTHORIZATION_FAILED", Retriable: false, Message: "the principal may not access this group"}
	ErrClusterAuthorizationFailed         = &Error{Code: 31, Name: "CLUSTER_AUTHORIZATION_FAILED", Retriable: false, Message: "the principal may not perform this cluster action"}
	ErrInvalidTimestamp                   = &Error{Code: 32, Name: "INVALID_TIMESTAMP", Retriable: false, Message: "a record timestamp is outside the broker's accepted range"}
	ErrUnsupportedSASLMechanism           = &Error{Code: 33, Name: "UNSUPPORTED_SASL_MECHANISM", Retriable: false, Message: "the broker does not support this SASL mechanism"}
	ErrIllegalSASLState                   = &Error{Code: 34, Name: "ILLEGAL_SASL_STATE", Retriable: false, Message: "the SASL request is not valid in the connection's state"}
	ErrUnsupportedVersion                 = &Error{Code: 35, Name: "UNSUPPORTED_VERSION", Retriable: false, Message: "the broker does not support this request version"}
	ErrTopicAlreadyExists                 = &Error{Code: 36, Name: "TOPIC_ALREADY_EXISTS", Retriable: false, Message: "the topic already exists"}
	ErrInvalidPartitions                  = &Error{Code: 37, Name: "INVALID_PARTITIONS", Retriable: false, Message: "the partition count is invalid"}
	ErrInvalidReplicationFactor           = &Error{Code: 38, Name: "INVALID_REPLICATION_FACTOR", Retriable: false, Message: "the replication factor is invalid"}
	ErrInvalidReplicaAssignment           = &Error{Code: 39, Name: "INVALID_REPLICA_ASSIGNMENT", Retriable: false, Message: "the replica assignment is invalid"}
	ErrInvalidConfig                      = &Error{Code: 40, Name: "INVALID_CONFIG", Retriable: false, Message: "the configuration is invalid"}
	ErrNotController                      = &Error{Code: 41, Name: "NOT_CONTROLLER", Retriable: true, Message: "the broker is not the controller"}
	ErrInvalidRequest                     = &Error{Code: 42, Name: "INVALID_REQUEST", Retriable: false, Message: "the broker could not parse or accept the request"}
	ErrUnsupportedForMessageFormat        = &Error{Code: 43, Name: "UNSUPPORTED_FOR_MESSAGE_FORMAT", Retriable: false, Message: "the topic's message format does not support this request"}
	ErrPolicyViolation                    = &Error{Code: 44, Name: "POLICY_VIOLATION", Retriable: false, Message: "the request violates a broker policy"}
	ErrOutOfOrderSequenceNumber           = &Error{Code: 45, Name: "OUT_OF_ORDER_SEQUENCE_NUMBER", Retriable: false, Message: "the broker received a producer sequence number out of order"}
	ErrDuplicateSequenceNumber            = &Error{Code: 46, Name: "DUPLICATE_SEQUENCE_NUMBER", Retriable: false, Message: "the broker already has a batch with this producer sequence"}
	ErrInvalidProducerEpoch               = &Error{Code: 47, Name: "INVALID_PRODUCER_EPOCH", Retriable: false, Message: "the producer epoch is older than the broker's"}
	ErrInvalidTxnState                    = &Error{Code: 48, Name: "INVALID_TXN_STATE", Retriable: false, Message: "the request is not valid in the transaction's state"}
	ErrInvalidProducerIDMapping           = &Error{Code: 49, Name: "INVALID_PRODUCER_ID_MAPPING", Retriable: false, Message: "the producer id does not match the transactional id"}
	ErrInvalidTransactionTimeout          = &Error{Code: 50, Name: "INVALID_TRANSACTION_TIMEOUT", Retriable: false, Message: "the transaction timeout exceeds the broker's maximum"}
	ErrConcurrentTransactions             = &Error{Code: 51, Name: "CONCURRENT_TRANSACTIONS", Retriable: true, Message: "the coordinator is completing an earlier transaction for this producer"}
	ErrTransactionCoordinatorFenced       = &Error{Code: 52, Name: "TRANSACTION_COORDINATOR_FENCED", Retriable: false, Message: "a newer transaction coordinator has taken over"}
	ErrTransactionalIDAuthorizationFailed = &Error{Code: 53, Name: "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", Retriable: false, Message: "the principal may not use this transactional id"}
	ErrSecurityDisabled                   = &Error{Code: 54, Name: "SECURITY_DISABLED", Retriable: false, Message: "security features are disabled on the broker"}
	ErrOperationNotAttempted              = &Error{Code: 55, Name: "OPERATION_NOT_ATTEMPTED", Retriable: false, Message: "the broker did not attempt the operation"}
	ErrKafkaStorageError                  = &Error{Code: 56, Name: "KAFKA_STORAGE_ERROR", Retriable: true, Message: "the broker's log directory is offline"}
	ErrLogDirNotFound                     = &Error{Code: 57, Name: "LOG_DIR_NOT_FOUND", Retriable: false, Message: "the log directory does not exist"}
	ErrSASLAuthenticationFailed           = &Error{Code: 58, Name: "SASL_AUTHENTICATION_FAILED", Retriable: false, Message: "SASL authentication failed"}
	ErrUnknownProducerID                  = &Error{Code: 59, Name: "UNKNOWN_PRODUCER_ID", Retriable: false, Message: "the broker has no state for this producer id"}
	ErrReassignmentInProgress             = &Error{Code: 60, Name: "REASSIGNMENT_IN_PROGRESS", Retriable: false, Message: "a partition reassignment is in progress"}
	ErrDelegationTokenAuthDisabled        = &Error{Code: 61, Name: "DELEGATION_TOKEN_AUTH_DISABLED", Retriable: false, Message: "delegation tokens are disabled"}
	ErrDelegationTokenNotFound            = &Error{Code: 62, Name: "DELEGATION_TOKEN_NOT_FOUND", Retriable: false, Message: "the delegation token was not found"}
	ErrDelegationTokenOwnerMismatch       = &Error{Code: 63, Name: "DELEGATION_TOKEN_OWNER_MISMATCH", Retriable: false, Message: "the delegation token owner does not match"}
	ErrDelegationTokenRequestNotAllowed   = &Error{Code: 64, Name: "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", Retriable: false, Message: "delegation token requests are not allowed on this connection"}
	ErrDelegationTokenAuthorizationFailed = &Error{Code: 65, Name: "DELEGATION_TOKEN_AUTHORIZATION_FAILED", Retriable: false, Message: "the principal may not use this delegation token"}
	ErrDelegationTokenExpired             = &Error{Code: 66, Name: "DELEGATION_TOKEN_EXPIRED", Retriable: false, Message: "the delegation token has expired"}
	ErrInvalidPrincipalType               = &Error{Code: 67, Name: "INVALID_PRINCIPAL_TYPE", Retriable: false, Message: "the principal type is not supported"}
	ErrNonEmptyGroup                      = &Error{Code: 68, Name: "NON_EMPTY_GROUP", Retriable: false, Message: "the group is not empty"}
	ErrGroupIDNotFound                    = &Error{Code: 69, Name: "GROUP_ID_NOT_FOUND", Retriable: false, Message: "the group does not exist"}
	ErrFetchSessionIDNotFound             = &Error{Code: 70, Name: "FETCH_SESSION_ID_NOT_FOUND", Retriable: true, Message: "the fetch session was not found"}
	ErrInvalidFetchSessionEpoch           = &Error{Code: 71, Name: "INVALID_FETCH_SESSION_EPOCH", Retriable: true, Message: "the fetch session epoch is invalid"}
	ErrListenerNotFound                   = &Error{Code: 72, Name: "LISTENER_NOT_FOUND", Retriable: true, Message: "the leader has no listener for the connection's listener name"}
	ErrTopicDeletionDisabled              = &Error{Code: 73, Name: "TOPIC_DELETION_DISABLED", Retriable: false, Message: "topic deletion is disabled"}
	ErrFencedLeaderEpoch                  = &Error{Code: 74, Name: "FENCED_LEADER_EPOCH", Retriable: true, Message: "the leader epoch in the request is older than the broker's"}
	ErrUnknownLeaderEpoch                 = &Error{Code: 75, Name: "UNKNOWN_LEADER_EPOCH", Retriable: true, Message: "the leader epoch in the request is newer than the broker's"}
	ErrUnsupportedCompressionType         = &Error{Code: 76, Name: "UNSUPPORTED_COMPRESSION_TYPE", Retriable: false, Message: "the broker does not support the batch's compression codec at this version"}
	ErrStaleBrokerEpoch                   = &Error{Code: 77, Name: "STALE_BROKER_EPOCH", Retriable: false, Message: "the broker epoch is stale"}
	ErrOffsetNotAvailable                 = &Error{Code: 78, Name: "OFFSET_NOT_AVAILABLE", Retriable: true, Message: "the leader's high watermark is not yet known"}
	ErrMemberIDRequired                   = &Error{Code: 79, Name: "MEMBER_ID_REQUIRED", Retriable: false, Message: "the group member must rejoin with a member id"}
	ErrPreferredLeaderNotAvailable        = &Error{Code: 80, Name: "PREFERRED_LEADER_NOT_AVAILABLE", Retriable: true, Message: "the preferred leader is not available"}
	ErrGroupMaxSizeReached                = &Error{Code: 81, Name: "GROUP_MAX_SIZE_REACHED", Retriable: false, Message: "the group is full"}
	ErrFencedInstanceID                   = &Error{Code: 82, Name: "FENCED_INSTANCE_ID", Retriable: false, Message: "a newer member with the same group instance id fenced this one"}
	ErrEligibleLeadersNotAvailable        = &Error{Code: 83, Name: "ELIGIBLE_LEADERS_NOT_AVAILABLE", Retriable: true, Message: "no eligible leader is available"}
	ErrElectionNotNeeded                  = &Error{Code: 84, Name: "ELECTION_NOT_NEEDED", Retriable: true, Message: "the leader election is not needed"}
	ErrNoReassignmentInProgress           = &Error{Code: 85, Name: "NO_REASSIGNMENT_IN_PROGRESS", Retriable: false, Message: "no partition reassignment is in progress"}
	ErrGroupSubscribedToTopic             = &Error{Code: 86, Name: "GROUP_SUBSCRIBED_TO_TOPIC", Retriable: false, Message: "the group is still subscribed to the topic"}
	ErrInvalidRecord                      = &Error{Code: 87, Name: "INVALID_RECORD", Retriable: false, Message: "the broker rejected a record as invalid"}
	ErrUnstableOffsetCommit               = &Error{Code: 88, Name: "UNSTABLE_OFFSET_COMMIT", Retriable: true, Message: "an unstable offset commit is pending"}
	ErrThrottlingQuotaExceeded            = &Error{Code: 89, Name: "THROTTLING_QUOTA_EXCEEDED", Retriable: true, Message: "the throttling quota is exceeded"}
	ErrProducerFenced                     = &Error{Code: 90, Name: "PRODUCER_FENCED", Retriable: false, Message: "a newer producer with the same transactional id fenced this one"}
	ErrResourceNotFound                   = &Error{Code: 91, Name: "RESOURCE_NOT_FOUND", Retriable: false, Message: "the resource was not found"}
	ErrDuplicateResource                  = &Error{Code: 92, Name: "DUPLICATE_RESOURCE", Retriable: false, Message: "the resource is duplicated in the request"}
	ErrUnacceptableCredential             = &Error{Code: 93, Name: "UNACCEPTABLE_CREDENTIAL", Retriable: false, Message: "the credential is not acceptable"}
	ErrInconsistentVoterSet               = &Error{Code: 94, Name: "INCONSISTENT_VOTER_SET", Retriable: false, Message: "the voter set is inconsistent"}
	ErrInvalidUpdateVersion               = &Error{Code: 95, Name: "INVALID_UPDATE_VERSION", Retriable: false, Message: "the update version is invalid"}
	ErrFeatureUpdateFailed                = &Error{Code: 96, Name: "FEATURE_UPDATE_FAILED", Retriable: false, Message: "the feature update failed"}
	ErrPrincipalDeserializationFailure    = &Error{Code: 97, Name: "PRINCIPAL_DESERIALIZATION_FAILURE", Retriable: false, Message: "the principal could not be deserialized"}
	ErrSnapshotNotFound                   = &Error{Code: 98, Name: "SNAPSHOT_NOT_FOUND", Retriable: false, Message: "the snapshot was not found"}
	ErrPositionOutOfRange                 = &Error{Code: 99, Name: "POSITION_OUT_OF_RANGE", Retriable: false, Message: "the position is out of range"}
	ErrUnknownTopicID                     = &Error{Code: 100, Name: "UNKNOWN_TOPIC_ID", Retriable: true, Message: "the broker does not know this topic id"}
	ErrDuplicateBrokerRegistration        = &Error{Code: 101, Name: "DUPLICATE_BROKER_REGISTRATION", Retriable: false, Message: "the broker registration is duplicated"}
	ErrBrokerIDNotRegistered              = &Error{Code: 102, Name: "BROKER_ID_NOT_REGISTERED", Retriable: false, Message: "the broker id is not registered"}
	ErrInconsistentTopicID                = &Error{Code: 103, Name: "INCONSISTENT_TOPIC_ID", Retriable: true, Message: "the topic id does not match the broker's"}
	ErrInconsistentClusterID              = &Error{Code: 104, Name: "INCONSISTENT_CLUSTER_ID", Retriable: false, Message: "the cluster id does not match"}
	ErrTransactionalIDNotFound            = &Error{Code: 105, Name: "TRANSACTIONAL_ID_NOT_FOUND", Retriable: false, Message: "the transactional id was not found"}
	ErrFetchSessionTopicIDError           = &Error{Code: 106, Name: "FETCH_SESSION_TOPIC_ID_ERROR", Retriable: true, Message: "the fetch session's topic ids are inconsistent"}
	ErrIneligibleReplica                  = &Error{Code: 107, Name: "INELIGIBLE_REPLICA", Retriable: false, Message: "the replica is not eligible"}
	ErrNewLeaderElected                   = &Error{Code: 108, Name: "NEW_LEADER_ELECTED", Retriable: false, Message: "a new leader was elected"}
	ErrOffsetMovedToTieredStorage         = &Error{Code: 109, Name: "OFFSET_MOVED_TO_TIERED_STORAGE", Retriable: false, Message: "the offset moved to tiered storage"}
	ErrFencedMemberEpoch                  = &Error{Code: 110, Name: "FENCED_MEMBER_EPOCH", Retriable: false, Message: "the member epoch is fenced"}
	ErrUnreleasedInstanceID               = &Error{Code: 111, Name: "UNRELEASED_INSTANCE_ID", Retriable: false, Message: "the instance id is still in use"}
	ErrUnsupportedAssignor                = &Error{Code: 112, Name: "UNSUPPORTED_ASSIGNOR", Retriable: false, Message: "the assignor is not supported"}
	ErrStaleMemberEpoch                   = &Error{Code: 113, Name: "STALE_MEMBER_EPOCH", Retriable: false, Message: "the member epoch is stale"}
	ErrMismatchedEndpointType             = &Error{Code: 114, Name: "MISMATCHED_ENDPOINT_TYPE", Retriable: false, Message: "the endpoint type does not match"}
	ErrUnsupportedEndpointType            = &Error{Code: 115, Name: "UNSUPPORTED_ENDPOINT_TYPE", Retriable: false, Message: "the endpoint type is not supported"}
	ErrUnknownControllerID                = &Error{Code: 116, Name: "UNKNOWN_CONTROLLER_ID", Retriable: false, Message: "the controller id is not known"}
	ErrUnknownSubscriptionID              = &Error{Code: 117, Name: "UNKNOWN_SUBSCRIPTION_ID", Retriable: false, Message: "the telemetry subscription id is not known"}
	ErrTelemetryTooLarge                  = &Error{Code: 118, Name: "TELEMETRY_TOO_LARGE", Retriable: false, Message: "the telemetry payload is too large"}
	ErrInvalidRegistration                = &Error{Code: 119, Name: "INVALID_REGISTRATION", Retriable: false, Message: "the registration is invalid"}
	ErrTransactionAbortable               = &Error{Code: 120, Name: "TRANSACTION_ABORTABLE", Retriable: false, Message: "the transaction must be aborted"}
	ErrInvalidRecordState                 = &Error{Code: 121, Name: "INVALID_RECORD_STATE", Retriable: false, Message: "the record state is invalid"}
	ErrShareSessionNotFound               = &Error{Code: 122, Name: "SHARE_SESSION_NOT_FOUND", Retriable: true, Message: "the share session was not found"}
	ErrInvalidShareSessionEpoch           = &Error{Code: 123, Name: "INVALID_SHARE_SESSION_EPOCH", Retriable: true, Message: "the share session epoch is invalid"}
	ErrFencedStateEpoch                   = &Error{Code: 124, Name: "FENCED_STATE_EPOCH", Retriable: false, Message: "the state epoch is fenced"}
	ErrInvalidVoterKey                    = &Error{Code: 125, Name: "INVALID_VOTER_KEY", Retriable: false, Message: "the voter key is invalid"}
	ErrDuplicateVoter                     = &Error{Code: 126, Name: "DUPLICATE_VOTER", Retriable: false, Message: "the voter is duplicated"}
	ErrVoterNotFound                      = &Error{Code: 127, Name: "VOTER_NOT_FOUND", Retriable: false, Message: "the voter was not found"}
	ErrInvalidRegularExpression           = &Error{Code: 128, Name: "INVALID_REGULAR_EXPRESSION", Retriable: false, Message: "the regular expression is invalid"}
	ErrRebootstrapRequired                = &Error{Code: 129, Name: "REBOOTSTRAP_REQUIRED", Retriable: false, Message: "the client must re-bootstrap its metadata"}
	ErrStreamsInvalidTopology             = &Error{Code: 130, Name: "STREAMS_INVALID_TOPOLOGY", Retriable: false, Message: "the streams topology is invalid"}
	ErrStreamsInvalidTopologyEpoch        = &Error{Code: 131, Name: "STREAMS_INVALID_TOPOLOGY_EPOCH", Retriable: false, Message: "the streams topology epoch is invalid"}
	ErrStreamsTopologyFenced              = &Error{Code: 132, Name: "STREAMS_TOPOLOGY_FENCED", Retriable: false, Message: "the streams topology is fenced"}
	ErrShareSessionLimitReached           = &Error{Code: 133, Name: "SHARE_SESSION_LIMIT_REACHED", Retriable: true, Message: "the share session limit is reached"}
)

// allErrors lists every sentinel; codeTable is built from it.
var allErrors = []*Error{
	ErrUnknownServerError,
	ErrOffsetOutOfRange,
	ErrCorruptMessage,
	ErrUnknownTopicOrPartition,
	ErrInvalidFetchSize,
	ErrLeaderNotAvailable,
	ErrNotLeaderOrFollower,
	ErrRequestTimedOut,
	ErrBrokerNotAvailable,
	ErrReplicaNotAvailable,
	ErrMessageTooLarge,
	ErrStaleControllerEpoch,
	ErrOffsetMetadataTooLarge,
	ErrNetworkException,
	ErrCoordinatorLoadInProgress,
	ErrCoordinatorNotAvailable,
	ErrNotCoordinator,
	ErrInvalidTopicException,
	ErrRecordListTooLarge,
	ErrNotEnoughReplicas,
	ErrNotEnoughReplicasAfterAppend,
	ErrInvalidRequiredAcks,
	ErrIllegalGeneration,
	ErrInconsistentGroupProtocol,
	ErrInvalidGroupID,
	ErrUnknownMemberID,
	ErrInvalidSessionTimeout,
	ErrRebalanceInProgress,
	ErrInvalidCommitOffsetSize,
	ErrTopicAuthorizationFailed,
	ErrGroupAuthorizationFailed,
	ErrClusterAuthorizationFailed,
	ErrInvalidTimestamp,
	ErrUnsupportedSASLMechanism,
	ErrIllegalSASLState,
	ErrUnsupportedVersion,
	ErrTopicAlreadyExists,
	ErrInvalidPartitions,
	ErrInvalidReplicationFactor,
	ErrInvalidReplicaAssignment,
	ErrInvalidConfig,
	ErrNotController,
	ErrInvalidRequest,
	ErrUnsupportedForMessageFormat,
	ErrPolicyViolation,
	ErrOutOfOrderSequenceNumber,
	ErrDuplicateSequenceNumber,
	ErrInvalidProducerEpoch,
	ErrInvalidTxnState,
	ErrInvalidProducerIDMapping,
	ErrInvalidTransactionTimeout,
	ErrConcurrentTransactions,
	ErrTransactionCoordinatorFenced,
	ErrTransactionalIDAuthorizationFailed,
	ErrSecurityDisabled,
	ErrOperationNotAttempted,
	ErrKafkaStorageError,
	ErrLogDirNotFound,
	ErrSASLAuthenticationFailed,
	ErrUnknownProducerID,
	ErrReassignmentInProgress,
	ErrDelegationTokenAuthDisabled,
	ErrDelegationTokenNotFound,
	ErrDelegationTokenOwnerMismatch,
	ErrDelegationTokenRequestNotAllowed,
	ErrDelegationTokenAuthorizationFailed,
	ErrDelegationTokenExpired,
	ErrInvalidPrincipalType,
	ErrNonEmptyGroup,
	ErrGroupIDNotFound,
	ErrFetchSessionIDNotFound,
	ErrInvalidFetchSessionEpoch,
	ErrListenerNotFound,
	ErrTopicDeletionDisabled,
	ErrFencedLeaderEpoch,
	ErrUnknownLeaderEpoch,
	ErrUnsupportedCompressionType,
	ErrStaleBrokerEpoch,
	ErrOffsetNotAvailable,
	ErrMemberIDRequired,
	ErrPreferredLeaderNotAvailable,
	ErrGroupMaxSizeReached,
	ErrFencedInstanceID,
	ErrEligibleLeadersNotAvailable,
	ErrElectionNotNeeded,
	ErrNoReassignmentInProgress,
	ErrGroupSubscribedToTopic,
	ErrInvalidRecord,
	ErrUnstableOffsetCommit,
	ErrThrottlingQuotaExceeded,
	ErrProducerFenced,
	ErrResourceNotFound,
	ErrDuplicateResource,
	ErrUnacceptableCredential,
	ErrInconsistentVoterSet,
	ErrInvalidUpdateVersion,
	ErrFeatureUpdateFailed,
	ErrPrincipalDeserializationFailure,
	ErrSnapshotNotFound,
	ErrPositionOutOfRange,
	ErrUnknownTopicID,
	ErrDuplicateBrokerRegistration,
	ErrBrokerIDNotRegistered,
	ErrInconsistentTopicID,
	ErrInconsistentClusterID,
	ErrTransactionalIDNotFound,
	ErrFetchSessionTopicIDError,
	ErrIneligibleReplica,
	ErrNewLeaderElected,
	ErrOffsetMovedToTieredStorage,
	ErrFencedMemberEpoch,
	ErrUnreleasedInstanceID,
	ErrUnsupportedAssignor,
	ErrStaleMemberEpoch,
	ErrMismatchedEndpointType,
	ErrUnsupportedEndpointType,
	ErrUnknownControllerID,
	ErrUnknownSubscriptionID,
	ErrTelemetryTooLarge,
	ErrInvalidRegistration,
	ErrTransactionAbortable,
	ErrInvalidRecordState,
	ErrShareSessionNotFound,
	ErrInvalidShareSessionEpoch,
	ErrFencedStateEpoch,
	ErrInvalidVoterKey,
	ErrDuplicateVoter,
	ErrVoterNotFound,
	ErrInvalidRegularExpression,
	ErrRebootstrapRequired,
	ErrStreamsInvalidTopology,
	ErrStreamsInvalidTopologyEpoch,
	ErrStreamsTopologyFenced,
	ErrShareSessionLimitReached,
}
